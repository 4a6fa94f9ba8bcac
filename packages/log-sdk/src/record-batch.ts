// Kafka's RecordBatch (magic 2) written in one pass into one buffer: what kafkajs 2.2.4 builds
// from a fresh Encoder per record and per header, BigInt varlongs and a byte-at-a-time CRC32C
// (over half of the SDK worker's busy time, see docs/benchmarks.md). Same bytes, same layout:
// https://kafka.apache.org/documentation/#recordbatch

/** One message as kafkajs's producer hands it to a Produce request. */
export interface BatchMessage {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: Readonly<Record<string, Buffer | string | null | undefined | readonly (Buffer | string | null)[]>>;
  readonly timestamp?: number | string | null;
}

export interface RecordBatchHeader {
  /** Codec id in the low three bits of the attributes (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
  readonly compression: number;
  readonly transactional: boolean;
  /** 64-bit producer id (-1 when not idempotent) as high and low 32-bit halves. */
  readonly producerIdHigh: number;
  readonly producerIdLow: number;
  readonly producerEpoch: number;
  readonly firstSequence: number;
}

const transactionalMask = 16;
const magic = 2;
/** firstOffset … recordCount: the fixed part before the (maybe compressed) records. */
export const recordBatchHeaderBytes = 61;
/** Where the CRC'd part starts: attributes, right after firstOffset, length, leader epoch, magic, crc. */
const crcFrom = 21;

const castagnoli = crc32cTables();

/** Slice-by-8 tables for CRC-32C (Castagnoli, reflected polynomial 0x82f63b78). */
function crc32cTables(): Int32Array[] {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  const [first] = tables;
  if (first === undefined) throw new Error('unreachable');
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    first[n] = c;
  }
  for (let n = 0; n < 256; n += 1) {
    let c = first[n] ?? 0;
    for (let t = 1; t < 8; t += 1) {
      c = (first[c & 0xff] ?? 0) ^ (c >>> 8);
      (tables[t] as Int32Array)[n] = c;
    }
  }
  return tables;
}

/** CRC-32C of `bytes[from, to)`, eight bytes per step. */
export function crc32c(bytes: Uint8Array, from = 0, to = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = castagnoli as [
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
    Int32Array,
  ];
  let crc = -1;
  let i = from;
  for (const end = to - 7; i < end; i += 8) {
    const low =
      crc ^
      ((bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24));
    crc =
      (t7[low & 0xff] as number) ^
      (t6[(low >>> 8) & 0xff] as number) ^
      (t5[(low >>> 16) & 0xff] as number) ^
      (t4[low >>> 24] as number) ^
      (t3[bytes[i + 4] as number] as number) ^
      (t2[bytes[i + 5] as number] as number) ^
      (t1[bytes[i + 6] as number] as number) ^
      (t0[bytes[i + 7] as number] as number);
  }
  for (; i < to; i += 1) crc = (t0[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** Bytes of a zigzag varint/varlong (any safe integer). */
function varintSize(value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  let size = 1;
  while (zigzag >= 0x80) {
    zigzag = Math.floor(zigzag / 0x80);
    size += 1;
  }
  return size;
}

function writeVarint(buffer: Buffer, at: number, value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  while (zigzag >= 0x80) {
    buffer[at++] = (zigzag % 0x80) | 0x80;
    zigzag = Math.floor(zigzag / 0x80);
  }
  buffer[at++] = zigzag;
  return at;
}

type Bytes = Buffer | null;

function toBytes(value: Buffer | string | null | undefined): Bytes {
  if (value === null || value === undefined) return null;
  return Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
}

const bytesSize = (bytes: Bytes): number => (bytes === null ? 1 : varintSize(bytes.length) + bytes.length);

function writeBytes(buffer: Buffer, at: number, bytes: Bytes): number {
  if (bytes === null) return writeVarint(buffer, at, -1);
  at = writeVarint(buffer, at, bytes.length);
  bytes.copy(buffer, at);
  return at + bytes.length;
}

/** A record's headers, encoded once (count, then key/value pairs) and shared by records that share the object. */
function encodeHeaders(headers: BatchMessage['headers']): Buffer {
  const pairs: [Buffer, Bytes][] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    const values = (Array.isArray(value) ? value : [value]) as readonly (Buffer | string | null)[];
    for (const one of values) pairs.push([Buffer.from(key, 'utf8'), toBytes(one)]);
  }
  let size = varintSize(pairs.length);
  for (const [key, value] of pairs) size += bytesSize(key) + bytesSize(value);
  const encoded = Buffer.allocUnsafe(size);
  let at = writeVarint(encoded, 0, pairs.length);
  for (const [key, value] of pairs) at = writeBytes(encoded, writeBytes(encoded, at, key), value);
  return encoded;
}

/** The records of a batch, uncompressed, and the timestamps kafkajs would give the batch. */
export function encodeRecords(
  messages: readonly BatchMessage[],
  now: number,
): { records: Buffer; firstTimestamp: number; maxTimestamp: number } {
  let firstTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  for (const message of messages) {
    if (message.timestamp === null || message.timestamp === undefined) continue;
    const timestamp = Number(message.timestamp);
    if (timestamp < firstTimestamp) firstTimestamp = timestamp;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  }
  if (firstTimestamp === Number.POSITIVE_INFINITY) firstTimestamp = maxTimestamp = now;

  // Messages of one logger share their key string and headers object: encode each once.
  let lastKey: BatchMessage['key'] | typeof unset = unset;
  let lastKeyBytes: Bytes = null;
  let lastHeaders: BatchMessage['headers'] | typeof unset = unset;
  let lastHeaderBytes: Buffer = Buffer.alloc(0);
  const keys: Bytes[] = new Array<Bytes>(messages.length);
  const values: Bytes[] = new Array<Bytes>(messages.length);
  const headers: Buffer[] = new Array<Buffer>(messages.length);
  const deltas: number[] = new Array<number>(messages.length);
  const bodySizes: number[] = new Array<number>(messages.length);
  let total = 0;
  for (let i = 0; i < messages.length; i += 1) {
    const message = messages[i] as BatchMessage;
    if (message.key !== lastKey) {
      lastKey = message.key;
      lastKeyBytes = toBytes(message.key);
    }
    if (message.headers !== lastHeaders) {
      lastHeaders = message.headers;
      lastHeaderBytes = encodeHeaders(message.headers);
    }
    const timestamp = message.timestamp === null || message.timestamp === undefined ? now : Number(message.timestamp);
    const value = toBytes(message.value);
    keys[i] = lastKeyBytes;
    values[i] = value;
    headers[i] = lastHeaderBytes;
    deltas[i] = timestamp - firstTimestamp;
    const body =
      1 +
      varintSize(deltas[i] as number) +
      varintSize(i) +
      bytesSize(lastKeyBytes) +
      bytesSize(value) +
      lastHeaderBytes.length;
    bodySizes[i] = body;
    total += varintSize(body) + body;
  }

  const records = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < messages.length; i += 1) {
    at = writeVarint(records, at, bodySizes[i] as number);
    records[at++] = 0; // record attributes: none defined
    at = writeVarint(records, at, deltas[i] as number);
    at = writeVarint(records, at, i);
    at = writeBytes(records, at, keys[i] as Bytes);
    at = writeBytes(records, at, values[i] as Bytes);
    (headers[i] as Buffer).copy(records, at);
    at += (headers[i] as Buffer).length;
  }
  return { records, firstTimestamp, maxTimestamp };
}

const unset = Symbol('unset');

/**
 * A whole RecordBatch (firstOffset 0) around `records` — the output of `encodeRecords`, compressed
 * with the codec named in `header.compression` when there is one — with its CRC.
 */
export function encodeRecordBatch(
  header: RecordBatchHeader,
  count: number,
  records: Buffer,
  timestamps: { readonly firstTimestamp: number; readonly maxTimestamp: number },
): Buffer {
  const batch = Buffer.allocUnsafe(recordBatchHeaderBytes + records.length);
  batch.writeBigInt64BE(0n, 0); // firstOffset: the broker assigns offsets
  batch.writeInt32BE(batch.length - 12, 8); // length: everything after firstOffset and itself
  batch.writeInt32BE(0, 12); // partitionLeaderEpoch
  batch.writeInt8(magic, 16);
  batch.writeInt16BE((header.compression & 0x07) | (header.transactional ? transactionalMask : 0), crcFrom);
  batch.writeInt32BE(count - 1, 23); // lastOffsetDelta
  batch.writeBigInt64BE(BigInt(timestamps.firstTimestamp), 27);
  batch.writeBigInt64BE(BigInt(timestamps.maxTimestamp), 35);
  batch.writeInt32BE(header.producerIdHigh, 43);
  batch.writeInt32BE(header.producerIdLow, 47);
  batch.writeInt16BE(header.producerEpoch, 51);
  batch.writeInt32BE(header.firstSequence, 53);
  batch.writeInt32BE(count, 57);
  records.copy(batch, recordBatchHeaderBytes);
  batch.writeUInt32BE(crc32c(batch, crcFrom), 17);
  return batch;
}
