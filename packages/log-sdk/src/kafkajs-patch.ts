// Imported before kafkajs wherever the SDK produces: it must run before kafkajs loads.
import { createRequire, Module } from 'node:module';
import { encodeRecordBatch, encodeRecords, type BatchMessage } from './record-batch.js';

interface GroupArguments {
  readonly topic: string;
  readonly partitionMetadata: readonly unknown[];
  readonly messages: readonly unknown[];
  readonly partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: unknown }) => number;
}

/** Linear twin of kafkajs's groupMessagesPerPartition: same result, same partitioner calls. */
function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: GroupArguments): Record<number, unknown[]> {
  const groups: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return groups;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (groups[partition] ??= []).push(message);
  }
  return groups;
}

/** Puts `exports` in the require cache as the module at `file`, before anything requires it. */
function replaceModule(file: string, exports: unknown): void {
  const module = new Module(file);
  module.filename = file;
  module.loaded = true;
  module.exports = exports;
  createRequire(import.meta.url).cache[file] = module;
}

/**
 * kafkajs 2.2.4 (pinned exactly) groups each batch's messages per partition with
 * `[...current, message]` inside a reduce: quadratic in the batch size, and the largest cost of
 * producing a 500-record batch (see docs/benchmarks.md). This puts a linear module with the same
 * contract in the require cache under that internal path before kafkajs requires it.
 */
function installLinearGrouping(): void {
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
  } catch {
    return; // a different kafkajs layout: leave it alone
  }
  if (file in require.cache) return; // kafkajs already loaded in this thread: too late, harmless
  replaceModule(file, groupMessagesPerPartition);
}

installLinearGrouping();

interface PendingCheckQueue {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  readonly pending: readonly unknown[];
  checkPendingRequests(): void;
}

/**
 * kafkajs 2.2.4 schedules its pending-request check `throttledUntil - now` ms ahead, a negative
 * number when it is not throttled; Node ≥ 23 then prints a TimeoutNegativeWarning into the app's
 * stderr on every connection (tulios/kafkajs#1751, unfixed upstream). Same method, delay clamped
 * to the 1 ms Node would use anyway.
 */
function clampPendingCheckDelay(): void {
  const require = createRequire(import.meta.url);
  let queueClass: { prototype: { scheduleCheckPendingRequests: (this: PendingCheckQueue) => void } };
  try {
    queueClass = require('kafkajs/src/network/requestQueue/index.js') as typeof queueClass;
  } catch {
    return; // a different kafkajs layout: leave it alone
  }
  const checkIntervalMillis = 10; // kafkajs's CHECK_PENDING_REQUESTS_INTERVAL
  queueClass.prototype.scheduleCheckPendingRequests = function (this: PendingCheckQueue) {
    if (this.throttleCheckTimeoutId !== null) return;
    let delay = this.throttledUntil - Date.now();
    if (this.pending.length > 0 && delay <= 0) delay = checkIntervalMillis;
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      Math.max(1, delay),
    );
  };
}

clampPendingCheckDelay();

interface KafkaEncoder {
  writeString(value: string | null): KafkaEncoder;
  writeInt16(value: number): KafkaEncoder;
  writeInt32(value: number): KafkaEncoder;
  writeBuffer(value: Buffer): KafkaEncoder;
  writeArray(values: readonly KafkaEncoder[]): KafkaEncoder;
}

interface KafkaLong {
  getHighBits(): number;
  getLowBits(): number;
}

interface ProduceRequestArguments {
  readonly acks: number;
  readonly timeout: number;
  readonly transactionalId?: string | null;
  readonly producerId?: KafkaLong | number | string;
  readonly producerEpoch?: number;
  readonly compression?: number;
  readonly topicData: readonly {
    readonly topic: string;
    readonly partitions: readonly {
      readonly partition: number;
      readonly firstSequence?: number;
      readonly messages: readonly BatchMessage[];
    }[];
  }[];
}

type RecordsCodec = { compress(encoder: { buffer: Buffer }): Promise<Buffer> } | null;

/** Set once the Produce request is installed: kafkajs's registry of codecs by compression type. */
let codecFor: ((compression: number) => RecordsCodec) | undefined;

/** A batch's records, encoded and (being) compressed ahead of its Produce request. */
interface PreparedRecords {
  readonly count: number;
  readonly compression: number;
  readonly body: Promise<Buffer>;
  readonly firstTimestamp: number;
  readonly maxTimestamp: number;
}

/** Keyed by a batch's first message object: the request finds it in its partition's messages. */
const preparedRecords = new WeakMap<object, PreparedRecords>();

/**
 * Encodes `messages` and starts compressing them now, so that the work overlaps the previous
 * batch's round trip; the Produce request that later carries exactly these messages (one
 * partition, same compression) uses the result instead of encoding them again. A no-op when the
 * request is not ours (a different kafkajs layout).
 */
export function prepareRecords(messages: readonly BatchMessage[], compression: number): void {
  const first = messages[0];
  if (codecFor === undefined || first === undefined) return;
  const codec = compression === 0 ? null : codecFor(compression);
  if (compression !== 0 && codec === null) return; // the request reports it
  const { records, firstTimestamp, maxTimestamp } = encodeRecords(messages, Date.now());
  const body = codec === null ? Promise.resolve(records) : codec.compress({ buffer: records });
  body.catch(() => undefined); // awaited by the request, if one comes; never unhandled
  preparedRecords.set(first, { count: messages.length, compression, body, firstTimestamp, maxTimestamp });
}

/** The records part of a partition's RecordBatch: prepared ahead, or encoded and compressed now. */
async function recordsOf(
  messages: readonly BatchMessage[],
  compression: number,
  codec: RecordsCodec,
): Promise<{ body: Buffer; firstTimestamp: number; maxTimestamp: number }> {
  const prepared = messages[0] === undefined ? undefined : preparedRecords.get(messages[0]);
  if (prepared !== undefined && prepared.count === messages.length && prepared.compression === compression) {
    return { body: await prepared.body, firstTimestamp: prepared.firstTimestamp, maxTimestamp: prepared.maxTimestamp };
  }
  const { records, ...timestamps } = encodeRecords(messages, Date.now());
  return { body: codec === null ? records : await codec.compress({ buffer: records }), ...timestamps };
}

/**
 * kafkajs 2.2.4 encodes every record through a fresh Encoder (a zeroed buffer), every varlong
 * through BigInt and the CRC32C a byte at a time: over half of the worker's busy time. This puts a
 * Produce v3 request (v4–v7 reuse it) that writes each partition's RecordBatch in one pass
 * (`record-batch.ts`, same bytes) under that internal path before kafkajs requires it.
 */
function installBatchEncoder(): void {
  const require = createRequire(import.meta.url);
  let file: string;
  let Encoder: new () => KafkaEncoder;
  let Long: { fromValue(value: KafkaLong | number | string): KafkaLong; fromInt(value: number): KafkaLong };
  let lookupCodec: (type: number) => RecordsCodec;
  try {
    file = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
    Encoder = require('kafkajs/src/protocol/encoder.js') as typeof Encoder;
    Long = require('kafkajs/src/utils/long.js') as typeof Long;
    ({ lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as {
      lookupCodec: typeof lookupCodec;
    });
  } catch {
    return; // a different kafkajs layout: leave it alone
  }
  if (file in require.cache) return; // kafkajs already loaded in this thread: too late, harmless
  const produceApiKey = 0;
  const produceRequest = ({
    acks,
    timeout,
    transactionalId = null,
    producerId = Long.fromInt(-1),
    producerEpoch = 0,
    compression = 0,
    topicData,
  }: ProduceRequestArguments) => ({
    apiKey: produceApiKey,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => acks !== 0,
    encode: async (): Promise<KafkaEncoder> => {
      const id = Long.fromValue(producerId);
      const codec = compression === 0 ? null : lookupCodec(compression);
      // kafkajs fails here too: records sent uncompressed under a codec's name would be corrupt.
      if (compression !== 0 && codec === null)
        throw new TypeError(`no Kafka codec for compression type ${compression}`);
      const topics: KafkaEncoder[] = [];
      for (const { topic, partitions } of topicData) {
        const encoded: KafkaEncoder[] = [];
        for (const { partition, firstSequence = 0, messages } of partitions) {
          const { body, ...timestamps } = await recordsOf(messages, compression, codec);
          const batch = encodeRecordBatch(
            {
              compression,
              transactional: transactionalId !== null,
              producerIdHigh: id.getHighBits(),
              producerIdLow: id.getLowBits(),
              producerEpoch,
              firstSequence,
            },
            messages.length,
            body,
            timestamps,
          );
          encoded.push(new Encoder().writeInt32(partition).writeInt32(batch.length).writeBuffer(batch));
        }
        topics.push(new Encoder().writeString(topic).writeArray(encoded));
      }
      return new Encoder().writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeArray(topics);
    },
  });
  replaceModule(file, produceRequest);
  codecFor = lookupCodec;
}

installBatchEncoder();
