// First: replaces kafkajs internals before kafkajs loads.
import './kafkajs-patch.js';
import { writeSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompressionTypes,
  Kafka,
  logLevel,
  type IHeaders,
  type Message,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import sonicBoom from 'sonic-boom';
import { lz4Encoder, registerKafkaCodecs } from './codecs.js';
import type { Compression, TransportConfig } from './options.js';
import { prepareRecords } from './kafkajs-patch.js';
import { recordBatchHeaderBytes } from './record-batch.js';
import { RecordQueue } from './queue.js';
import { emptyStats, type CompressionEncoder, type DeliveryStats, type DropReason } from './stats.js';

/** Version of the record layout, sent in the `graybridge-schema` header of every record. */
export const recordSchemaVersion = '1';

const compressionTypes: Record<Compression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

const backoff = { initialMillis: 200, maxMillis: 10_000 };

/** What the outage mirror holds for a stdout slower than the records come (more is refused, counted). */
const mirrorMaxBytes = 4 * 1024 * 1024;

/**
 * Attempts before a batch the broker answered with a non-retriable error (corrupt record,
 * authorization, unknown server error…) is dropped as `kafka_rejected`: without a limit one poison
 * batch would hold up everything behind it until the buffer overflows.
 */
const rejectedAttempts = 3;

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

interface KafkaErrorShape {
  name?: string;
  type?: string;
  retriable?: boolean;
  message?: string;
  cause?: unknown;
}

/** Walks kafkajs's wrapping (NumberOfRetriesExceeded → cause) to the broker's protocol error. */
function protocolError(error: unknown): { type: string; retriable: boolean } | undefined {
  let current = error as KafkaErrorShape | undefined;
  for (let depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (typeof current.type === 'string') return { type: current.type, retriable: current.retriable !== false };
    current = current.cause as KafkaErrorShape | undefined;
  }
  return undefined;
}

function describeError(error: unknown): string {
  const e = error as KafkaErrorShape;
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

const openBrace = 0x7b;
const closeBrace = 0x7d;
const newline = 0x0a;

/** Identity JSON members spliced into each record (standalone transport), made once. */
interface IdentitySplice {
  /** `{` + members + `,`: goes before a record's own members. */
  readonly beforeMembers: Buffer;
  /** `{` + members: goes before the `}` of a record without members. */
  readonly beforeEnd: Buffer;
}

/** Standalone transport: the identity goes first, so a record's own field of the same name wins when parsed. */
function withIdentity(line: Buffer, identity: IdentitySplice): Buffer {
  if (line[0] !== openBrace) return line;
  let rest = 1;
  while (rest < line.length && (line[rest] === 0x20 || line[rest] === 0x09)) rest += 1;
  const prefix = line[rest] === closeBrace ? identity.beforeEnd : identity.beforeMembers;
  return Buffer.concat([prefix, line.subarray(rest)]);
}

/**
 * The transport worker's engine: takes JSON lines from pino, keeps them in a bounded queue, and
 * ships them to Kafka in batches (count, bytes, linger), reconnecting with jittered exponential
 * backoff. Nothing here can block or throw into the app: the app's thread only writes lines.
 */
export class KafkaDelivery {
  private readonly stats: Mutable<DeliveryStats> = emptyStats();
  private readonly queue: RecordQueue;
  private readonly producer: Producer;
  private readonly headers: IHeaders;
  private readonly identity: IdentitySplice | null;
  private readonly recordOverhead: number;
  /** kafkajs's codec id: the batch is prepared and the request sent with the same one. */
  private readonly compression: CompressionTypes;
  private connected = false;
  private stopping = false;
  private shutdownDeadline = Number.POSITIVE_INFINITY;
  /**
   * Accepted records are numbered in order (0 … enqueuedRecords − 1). These are the numbers of the
   * first records of the batches taken and not yet settled, oldest first (one in flight, one being
   * prepared), and how many records left the front of the queue (taken, or dropped as the oldest).
   * Every record below the first unsettled number reached a terminal state: what a flush waits
   * for. A count of settled records would not do: drop-oldest settles records newer than the
   * batch in flight.
   */
  private readonly takenFrom: number[] = [];
  private leftQueue = 0;
  private flushWaiters: { readonly target: number; readonly resolve: () => void }[] = [];
  private wake: (() => void) | undefined;
  /** Aborted by close(): ends a backoff wait, which records arriving must not shorten. */
  private readonly closing = new AbortController();
  /** Set when close() has counted what missed the deadline: later outcomes change nothing. */
  private closed = false;
  private firstWaitingSince = 0;
  private lastWarningAt = 0;
  /** The outage mirror: opened on first use; null once stdout failed (it stays off). */
  private stdout: sonicBoom.SonicBoom | null | undefined;
  /** Byte sizes of the mirrored records stdout has not taken yet, oldest first. */
  private mirrorPending: number[] = [];
  private mirrorPendingHead = 0;
  /** Bytes of the oldest pending record stdout already took. */
  private mirrorWrittenOfHead = 0;
  private readonly loop: Promise<void>;

  constructor(private readonly config: TransportConfig) {
    registerKafkaCodecs();
    this.queue = new RecordQueue(config.buffer, (count, queued) => {
      this.drop('queue_full', count);
      if (queued) {
        this.leftQueue += count;
        this.settled();
      }
    });
    // One header only: every header is encoded per record, and the schema implies JSON.
    this.headers = { 'graybridge-schema': recordSchemaVersion };
    this.compression = compressionTypes[config.compression];
    this.identity =
      config.identityJson === null
        ? null
        : { beforeMembers: Buffer.from(`{${config.identityJson},`), beforeEnd: Buffer.from(`{${config.identityJson}`) };
    // What a record costs in a RecordBatch beside its value: key, header, lengths and deltas.
    this.recordOverhead =
      Buffer.byteLength(config.key ?? '') +
      Object.entries(this.headers).reduce(
        (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(String(value)),
        0,
      ) +
      16;
    this.producer = new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      connectionTimeout: config.connectionTimeoutMillis,
      requestTimeout: config.requestTimeoutMillis,
      ...(config.tls === false ? {} : { ssl: config.tls }),
      ...(config.sasl === null ? {} : { sasl: config.sasl as SASLOptions }),
      // Our loop retries with backoff forever; kafkajs only retries briefly for leader moves.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: logLevel.NOTHING,
    }).producer({
      idempotent: config.idempotent,
      ...(config.idempotent ? { maxInFlightRequests: 1 } : {}),
      allowAutoTopicCreation: false,
    });
    this.loop = this.run();
  }

  /**
   * Lines of UTF-8, each ending in a newline. Never throws. Records are views into the given
   * Buffer (a copy per record cost more than the rest of the worker's work); they are taken in
   * order, so the Buffers they keep alive are about what the queue holds.
   */
  acceptLines(bytes: Buffer): void {
    const identity = this.identity;
    let start = 0;
    for (let end = bytes.indexOf(newline); end !== -1; end = bytes.indexOf(newline, start)) {
      if (end > start) {
        const line = bytes.subarray(start, end);
        this.accept(identity === null ? line : withIdentity(line, identity));
      }
      start = end + 1;
    }
  }

  private accept(record: Buffer): void {
    if (record.length > this.config.maxRecordBytes) {
      this.drop('record_too_large', 1);
      return;
    }
    if (!this.stats.kafkaAvailable && this.config.mirrorToStdoutWhenUnavailable) this.mirror(record);
    if (!this.queue.push(record)) return;
    this.stats.enqueuedRecords += 1;
    if (this.queue.waiting === 1) this.firstWaitingSince = Date.now();
    // The loop decides again only when a linger starts or a batch fills.
    if (this.queue.waiting === 1 || this.batchFull()) this.wake?.();
  }

  snapshot(): DeliveryStats {
    return {
      ...this.stats,
      droppedRecords: { ...this.stats.droppedRecords },
      queuedRecords: this.queue.totalRecords,
      queuedBytes: this.queue.totalBytes,
      workerHeapUsedBytes: getHeapStatistics().used_heap_size,
      compressionEncoder: this.compressionEncoder(),
    };
  }

  /** Asked on every snapshot: a native lz4 encoder that fails is replaced while running. */
  private compressionEncoder(): CompressionEncoder {
    const { compression } = this.config;
    return compression === 'lz4' ? lz4Encoder() : compression;
  }

  /**
   * Resolves when every record accepted before the call is sent or dropped (later records do not
   * hold it up), or at the deadline.
   */
  async flush(timeoutMillis: number): Promise<DeliveryStats> {
    const target = this.stats.enqueuedRecords;
    if (this.firstUnsettled() < target) {
      const settled = new Promise<void>((resolve) => this.flushWaiters.push({ target, resolve }));
      this.firstWaitingSince = 0; // no lingering while someone waits
      this.wake?.();
      await Promise.race([settled, sleep(timeoutMillis, undefined, { ref: false })]);
    }
    return this.snapshot();
  }

  /** Flushes within the shutdown deadline, counts what is left as dropped, disconnects. */
  async close(): Promise<DeliveryStats> {
    this.shutdownDeadline = Date.now() + this.config.shutdownTimeoutMillis;
    await this.flush(this.config.shutdownTimeoutMillis);
    this.stopping = true;
    this.closing.abort();
    this.wake?.();
    await Promise.race([this.loop, sleep(Math.max(0, this.shutdownDeadline - Date.now()), undefined, { ref: false })]);
    // Whatever is still waiting or in flight now missed the deadline.
    const left = this.queue.totalRecords;
    this.leftQueue += this.queue.discardWaiting();
    if (left > 0) this.drop('shutdown_timeout', left);
    this.closed = true;
    await this.producer.disconnect().catch(() => undefined);
    this.flushMirror();
    return this.snapshot();
  }

  private firstUnsettled(): number {
    return this.takenFrom[0] ?? this.leftQueue;
  }

  /** Resolves the flushes whose records all reached a terminal state. */
  private settled(): void {
    if (this.flushWaiters.length === 0) return;
    const first = this.firstUnsettled();
    const waiting = [];
    for (const waiter of this.flushWaiters) {
      if (waiter.target <= first) waiter.resolve();
      else waiting.push(waiter);
    }
    this.flushWaiters = waiting;
  }

  private batchFull(): boolean {
    return this.queue.waiting >= this.config.batch.maxRecords || this.queue.waitingBytes >= this.config.batch.maxBytes;
  }

  /**
   * Batches the queue and sends them one Produce request at a time (so records of a key stay in
   * order without relying on sequence numbers). While one is in flight, the next full batch is
   * taken, encoded and compressed, ready to go the moment the broker acknowledges.
   */
  private async run(): Promise<void> {
    let sending: Promise<void> | undefined;
    while (!(this.stopping && (this.queue.waiting === 0 || Date.now() >= this.shutdownDeadline))) {
      const full = this.batchFull();
      // A partial batch waits for the one in flight: it may still fill up meanwhile.
      if (this.queue.waiting === 0 || (sending !== undefined && !full)) {
        await this.sleepUntilWoken();
        continue;
      }
      const lingerLeft = this.firstWaitingSince + this.config.batch.lingerMillis - Date.now();
      if (!full && lingerLeft > 0 && this.flushWaiters.length === 0 && !this.stopping) {
        await this.sleepUntilWoken(lingerLeft);
        continue;
      }
      const batch = this.queue.take(
        this.config.batch.maxRecords,
        this.config.batch.maxBytes - recordBatchHeaderBytes,
        this.recordOverhead,
      );
      this.takenFrom.push(this.leftQueue);
      this.leftQueue += batch.length;
      this.firstWaitingSince = Date.now();
      const messages = batch.map((value): Message => ({ key: this.config.key, value, headers: this.headers }));
      prepareRecords(messages, this.compression);
      await sending;
      sending = this.deliver(messages).then(() => {
        this.queue.settle(batch);
        this.takenFrom.shift();
        this.settled();
        sending = undefined;
        this.wake?.();
      });
    }
    await sending;
  }

  /** Sends one batch until it is sent or dropped for good; stops retrying once shutting down. */
  private async deliver(batch: Message[]): Promise<void> {
    let rejections = 0;
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (!this.connected) {
          await this.producer.connect();
          this.connected = true;
        }
        await this.producer.send({
          topic: this.config.topic,
          acks: this.config.acks,
          timeout: this.config.requestTimeoutMillis,
          compression: this.compression,
          messages: batch,
        });
        if (this.closed) return;
        this.stats.sentRecords += batch.length;
        this.stats.sentBatches += 1;
        if (!this.stats.kafkaAvailable) this.recovered();
        return;
      } catch (error) {
        this.stats.sendErrors += 1;
        this.stats.lastError = describeError(error);
        const answer = protocolError(error);
        const type = answer?.type;
        if (type === 'MESSAGE_TOO_LARGE' && batch.length > 1) {
          // The broker's limit applies to the whole batch: halve it and try both halves.
          const half = Math.ceil(batch.length / 2);
          await this.deliver(batch.slice(0, half));
          await this.deliver(batch.slice(half));
          return;
        }
        if (type === 'MESSAGE_TOO_LARGE') {
          this.drop('record_too_large', batch.length);
          return;
        }
        if (answer?.retriable === false && (rejections += 1) >= rejectedAttempts) {
          this.drop('kafka_rejected', batch.length);
          return;
        }
        this.unavailable(type);
        if (this.stopping && Date.now() >= this.shutdownDeadline) {
          this.drop('shutdown_timeout', batch.length);
          return;
        }
        this.connected = false;
        await this.producer.disconnect().catch(() => undefined);
        const ceiling = Math.min(backoff.maxMillis, backoff.initialMillis * 2 ** Math.min(attempt, 16));
        // Once closing, the deadline bounds the wait; a wait begun before close() ends there.
        const millis = Math.min(
          ceiling / 2 + Math.random() * (ceiling / 2),
          Math.max(0, this.shutdownDeadline - Date.now()),
        );
        await sleep(millis, undefined, this.stopping ? {} : { signal: this.closing.signal }).catch(() => undefined);
      }
    }
  }

  private unavailable(errorType: string | undefined): void {
    const wasAvailable = this.stats.kafkaAvailable;
    this.stats.kafkaAvailable = false;
    if (wasAvailable || Date.now() - this.lastWarningAt >= this.config.warnIntervalMillis) {
      this.warn(
        `${this.explainFailure(errorType)}; ` +
          `${this.queue.totalRecords} records buffered, ${this.totalDropped()} dropped so far; retrying`,
      );
    }
  }

  /** What a failed send means for the operator, naming the option at fault where one is. */
  private explainFailure(errorType: string | undefined): string {
    const brokers = this.config.brokers.join(',');
    const cause = this.stats.lastError ?? 'unknown error';
    if (errorType === 'UNKNOWN_TOPIC_OR_PARTITION') {
      return `Kafka ${brokers}: topic "${this.config.topic}" (kafka.topic) not found — create it, the SDK does not (${cause})`;
    }
    return `Kafka ${brokers} unreachable (${cause})`;
  }

  private recovered(): void {
    this.stats.kafkaAvailable = true;
    this.warn(`Kafka ${this.config.brokers.join(',')} reachable again; ${this.queue.totalRecords} records buffered`);
  }

  private drop(reason: DropReason, count: number): void {
    if (this.closed) return;
    this.stats.droppedRecords[reason] += count;
    if (Date.now() - this.lastWarningAt >= this.config.warnIntervalMillis) {
      this.warn(`dropped ${count} record(s) (${reason}); ${this.totalDropped()} dropped in total`);
    }
  }

  private totalDropped(): number {
    return Object.values(this.stats.droppedRecords).reduce((a, b) => a + b, 0);
  }

  /** stderr, written synchronously from the worker: it must not depend on the app's thread. */
  private warn(message: string): void {
    this.lastWarningAt = Date.now();
    try {
      writeSync(2, `graybridge log-sdk: ${message}\n`);
    } catch {
      // stderr closed: nothing left to tell.
    }
  }

  private mirror(record: Buffer): void {
    if (this.stdout === undefined) this.stdout = this.openMirror();
    if (this.stdout === null) {
      this.stats.unmirroredRecords += 1;
      return;
    }
    const before = this.stats.unmirroredRecords;
    this.stdout.write(record.toString() + '\n'); // a full mirror refuses it with a 'drop' event, counted there
    // The record's own bytes and the newline: what stdout is to take (its UTF-8 round-trips).
    if (this.stats.unmirroredRecords === before) this.mirrorPending.push(record.length + 1);
  }

  /**
   * stdout, written asynchronously, bounded: a slow reader costs at most `mirrorMaxBytes` (more is
   * refused, counted) and a closed one (EPIPE) turns the mirror off instead of killing the worker.
   */
  private openMirror(): sonicBoom.SonicBoom {
    const stdout = new sonicBoom.SonicBoom({
      fd: 1,
      sync: false,
      maxLength: Math.max(mirrorMaxBytes, this.config.maxRecordBytes + 1),
    });
    stdout.on('write', (bytes: number) => this.mirrorWritten(bytes));
    stdout.on('drop', () => (this.stats.unmirroredRecords += 1));
    stdout.on('error', (error: Error) => this.mirrorFailed(error));
    return stdout;
  }

  /** stdout took `bytes` more of the pending records: those it took whole are mirrored. */
  private mirrorWritten(bytes: number): void {
    let left = this.mirrorWrittenOfHead + bytes;
    for (let size = this.mirrorPending[this.mirrorPendingHead]; size !== undefined && size <= left;) {
      left -= size;
      this.stats.mirroredRecords += 1;
      size = this.mirrorPending[(this.mirrorPendingHead += 1)];
    }
    this.mirrorWrittenOfHead = left;
    if (this.mirrorPendingHead === this.mirrorPending.length) this.clearMirrorPending();
    else if (this.mirrorPendingHead > 4096 && this.mirrorPendingHead * 2 > this.mirrorPending.length) {
      // A mirror that never quite catches up: the taken prefix must not grow forever.
      this.mirrorPending = this.mirrorPending.slice(this.mirrorPendingHead);
      this.mirrorPendingHead = 0;
    }
  }

  private mirrorFailed(error: Error): void {
    if (this.stdout === null) return;
    // Not destroyed: that would close fd 1, which belongs to the app.
    this.stdout = null;
    this.stats.unmirroredRecords += this.mirrorPending.length - this.mirrorPendingHead;
    this.clearMirrorPending();
    this.warn(`stdout failed (${describeError(error)}); records are no longer mirrored there`);
  }

  /** At close: what stdout has not taken yet is written now, or counted. */
  private flushMirror(): void {
    if (this.stdout === undefined || this.stdout === null) return;
    try {
      this.stdout.flushSync();
      this.stats.mirroredRecords += this.mirrorPending.length - this.mirrorPendingHead;
      this.clearMirrorPending();
    } catch (error) {
      this.mirrorFailed(error as Error);
    }
  }

  private clearMirrorPending(): void {
    this.mirrorPending = [];
    this.mirrorPendingHead = 0;
    this.mirrorWrittenOfHead = 0;
  }

  /** Waits for new records, a flush, a sent batch or a stop — or `millis`. */
  private async sleepUntilWoken(millis?: number): Promise<void> {
    const woken = new Promise<void>((resolve) => (this.wake = resolve));
    const controller = new AbortController();
    await Promise.race(
      millis === undefined
        ? [woken]
        : [woken, sleep(millis, undefined, { signal: controller.signal }).catch(() => undefined)],
    );
    controller.abort();
    this.wake = undefined;
  }
}
