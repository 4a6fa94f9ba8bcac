export { ForwarderError, ForwarderErrorCodes, invalidOption, type ForwarderErrorCode } from './errors.js';
export type { KafkaRecord, DecodedRecord, RecordIdentity, DecodeErrorCode } from './record.js';
export { decodeRecord, defaultDecodeOptions, type DecodeOptions } from './decode/decode.js';
export { enrichRecord, type EnrichedRecord, type EnrichOutcome, type ExclusionReason } from './enrich/enrich.js';
export { decodeGelfPayload, type IndexedMessage, type GelfDecodeResult } from './receiver/graylog-rules.js';
export { KafkaSource, type KafkaSourceOptions, type BatchVerdict, type SourceStats } from './source/kafka-source.js';
export { createPipeline, type PipelineOptions, type PipelineStats, type UndeliveredReason } from './pipeline.js';
export { startOpsServer, type OpsServer, type OpsServerOptions, type Check } from './ops/server.js';
export { registerForwarderMetrics, type MetricSources } from './ops/metrics.js';
