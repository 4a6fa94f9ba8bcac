export { createLogger, type Logger } from './logger.js';
export { withLogContext, currentLogContext } from './context.js';
export { registerDeliveryMetrics } from './metrics.js';
export { registerKafkaCodecs } from './codecs.js';
export { recordSchemaVersion } from './delivery.js';
export { LogSdkError, LogSdkErrorCodes, invalidOption, type LogSdkErrorCode } from './errors.js';
export { detectPodIdentity, detectServiceIdentity, type PodIdentity, type ServiceIdentity } from './identity.js';
export {
  defaults,
  type LoggerOptions,
  type KafkaOptions,
  type BatchOptions,
  type BufferOptions,
  type TlsOptions,
  type SaslOptions,
  type Compression,
  type SaslMechanism,
  type DropPolicy,
} from './options.js';
export { dropReasons, type CompressionEncoder, type DeliveryStats, type DropReason } from './stats.js';
export type { KafkaTransportOptions } from './transport.js';
export { defaultRedactKeys } from './redact.js';
