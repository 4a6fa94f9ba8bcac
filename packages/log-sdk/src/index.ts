export { LogSdkError, LogSdkErrorCodes, invalidOption, type LogSdkErrorCode } from './errors.js';
