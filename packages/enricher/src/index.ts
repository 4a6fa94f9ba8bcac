export { EnricherError, EnricherErrorCodes, invalidOption, type EnricherErrorCode } from './errors.js';
