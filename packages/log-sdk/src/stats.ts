/** Why a record was not delivered. Stable names: they are metric labels and documented. */
export type DropReason =
  /** The bounded buffer was full (records or bytes), per the drop policy. */
  | 'queue_full'
  /** One record was larger than `kafka.maxRecordBytes`. */
  | 'record_too_large'
  /** Kafka refused the records for good (e.g. corrupt or invalid record). */
  | 'kafka_rejected'
  /** Still queued when the shutdown deadline passed. */
  | 'shutdown_timeout'
  /** Taken by the SDK's worker thread, which died before it reported them delivered. */
  | 'worker_failed';

/**
 * What compresses the batches. lz4 names its encoder: lz4-napi's native one, or the TypeScript one
 * the SDK falls back to where lz4-napi's binary does not load or fails.
 */
export type CompressionEncoder = 'none' | 'gzip' | 'snappy' | 'lz4-napi' | 'lz4-typescript' | 'zstd';

export const dropReasons: readonly DropReason[] = [
  'queue_full',
  'record_too_large',
  'kafka_rejected',
  'shutdown_timeout',
  'worker_failed',
];

/** Delivery counters of one logger (all of its children share them). */
export interface DeliveryStats {
  /** Records accepted into the buffer since start. */
  readonly enqueuedRecords: number;
  /** Records Kafka acknowledged. */
  readonly sentRecords: number;
  readonly sentBatches: number;
  /** Records and bytes waiting or in flight right now. */
  readonly queuedRecords: number;
  readonly queuedBytes: number;
  readonly droppedRecords: Readonly<Record<DropReason, number>>;
  /** Failed send attempts (each retried unless the records were dropped). */
  readonly sendErrors: number;
  /** Records also written to stdout because Kafka was unreachable. */
  readonly mirroredRecords: number;
  /**
   * Records that were to be mirrored but could not be (stdout closed or too slow: its buffer was
   * full). They still go to Kafka, or are counted in `droppedRecords`.
   */
  readonly unmirroredRecords: number;
  /** False from a failed attempt until the next success. */
  readonly kafkaAvailable: boolean;
  /** `name: message` of the last send error, if any. */
  readonly lastError: string | null;
  /**
   * V8 heap in use in the SDK's worker thread (the buffer's records live outside it, in Buffers):
   * the SDK's own memory, which the app's `process.memoryUsage().heapUsed` does not include.
   */
  readonly workerHeapUsedBytes: number;
  /** Null until the worker has reported. */
  readonly compressionEncoder: CompressionEncoder | null;
}

export function emptyStats(): DeliveryStats {
  return {
    enqueuedRecords: 0,
    sentRecords: 0,
    sentBatches: 0,
    queuedRecords: 0,
    queuedBytes: 0,
    droppedRecords: { queue_full: 0, record_too_large: 0, kafka_rejected: 0, shutdown_timeout: 0, worker_failed: 0 },
    sendErrors: 0,
    mirroredRecords: 0,
    unmirroredRecords: 0,
    kafkaAvailable: true,
    lastError: null,
    workerHeapUsedBytes: 0,
    compressionEncoder: null,
  };
}
