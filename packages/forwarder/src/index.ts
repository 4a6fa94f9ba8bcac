export { ForwarderError, ForwarderErrorCodes, invalidOption, type ForwarderErrorCode } from './errors.js';
