export {
  encodeGelf,
  defaultGelfLimits,
  sanitizeKey,
  type GelfInput,
  type GelfLimits,
  type GelfResult,
} from './gelf.js';
export { syslogLevel, Syslog } from './level.js';
export { toGelfInput, eventId } from './to-gelf.js';
