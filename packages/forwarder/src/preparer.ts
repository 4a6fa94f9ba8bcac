// Where a batch is prepared (decoded, enriched, encoded): in the main thread, or in a pool of
// worker threads so that the stages of several partitions' batches run on several cores while the
// main thread fetches from Kafka and writes to Graylog. Lookups stay in the main thread: a worker
// sends the distinct pods of its batch and gets their metadata back in one round trip.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PodLookup, PodQuery } from '@graybridge/enricher';
import { ForwarderError, ForwarderErrorCodes } from './errors.js';
import { decodeAll, podQueries, prepareDecoded, type PrepareOptions, type PreparedRecords } from './prepare.js';
import type { KafkaRecord } from './record.js';

/** The enricher as a preparer needs it. */
export interface Enrichment {
  readonly lookup: (query: PodQuery) => PodLookup | undefined;
  /** Brings what these queries need into memory (shared mode: one Redis read). Must not reject. */
  readonly prefetch?: (queries: readonly PodQuery[]) => Promise<void>;
}

export interface Preparer {
  prepare(
    records: readonly KafkaRecord[],
    enrichment: Enrichment,
    extraFields?: Readonly<Record<string, string>>,
  ): Promise<PreparedRecords>;
  close(): Promise<void>;
}

/** The answer of lookups for `queries`, in their order. */
async function lookupsFor(queries: readonly PodQuery[], enrichment: Enrichment): Promise<(PodLookup | undefined)[]> {
  if (enrichment.prefetch !== undefined && queries.length > 0) await enrichment.prefetch(queries);
  return queries.map((query) => enrichment.lookup(query));
}

export function inProcessPreparer(options: PrepareOptions): Preparer {
  return {
    async prepare(records, enrichment, extraFields) {
      const decoded = decodeAll(records, options.decode);
      const queries = podQueries(decoded);
      if (enrichment.prefetch !== undefined && queries.length > 0) await enrichment.prefetch(queries);
      return prepareDecoded(decoded, enrichment.lookup, {
        ...options,
        ...(extraFields === undefined ? {} : { extraFields }),
      });
    },
    close: () => Promise.resolve(),
  };
}

/** Messages between the pool and a worker (prepare-worker.ts). */
export type ToWorker =
  | {
      readonly kind: 'prepare';
      readonly id: number;
      readonly batch: PackedBatch;
      readonly extraFields: Readonly<Record<string, string>> | undefined;
    }
  | { readonly kind: 'lookups'; readonly id: number; readonly lookups: readonly (PodLookup | undefined)[] };

export type FromWorker =
  | { readonly kind: 'queries'; readonly id: number; readonly queries: readonly PodQuery[] }
  | { readonly kind: 'prepared'; readonly id: number; readonly prepared: PreparedRecords }
  | { readonly kind: 'failed'; readonly id: number; readonly message: string };

/**
 * A batch as it crosses to a worker: every key and value copied into one buffer that is
 * transferred, not cloned. (A record's Buffer is a view into the client's fetch buffer, and
 * cloning a view clones all of the memory behind it.)
 */
export interface PackedBatch {
  readonly bytes: ArrayBuffer;
  readonly records: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly offset: string;
    readonly timestampMillis: number;
    /** [start, end) of the key and the value in `bytes`; -1 for null. */
    readonly key: readonly [number, number];
    readonly value: readonly [number, number];
    readonly headers: Readonly<Record<string, string | undefined>>;
  }[];
}

export function packBatch(records: readonly KafkaRecord[]): PackedBatch {
  let size = 0;
  for (const record of records) size += (record.key?.length ?? 0) + (record.value?.length ?? 0);
  const bytes = Buffer.allocUnsafeSlow(size);
  let at = 0;
  const place = (buffer: Buffer | null): [number, number] => {
    if (buffer === null) return [-1, -1];
    const start = at;
    at += buffer.copy(bytes, at);
    return [start, at];
  };
  const packed = records.map((record) => ({
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestampMillis: record.timestampMillis,
    key: place(record.key),
    value: place(record.value),
    headers: Object.fromEntries(
      Object.entries(record.headers).map(([name, value]) => [name, value === undefined ? undefined : value.toString()]),
    ),
  }));
  return { bytes: bytes.buffer, records: packed };
}

export function unpackBatch(batch: PackedBatch): KafkaRecord[] {
  const bytes = Buffer.from(batch.bytes);
  const view = ([start, end]: readonly [number, number]): Buffer | null =>
    start === -1 ? null : bytes.subarray(start, end);
  return batch.records.map((record) => ({ ...record, key: view(record.key), value: view(record.value) }));
}

export interface WorkerData {
  readonly options: PrepareOptions;
}

interface Job {
  readonly enrichment: Enrichment;
  readonly resolve: (prepared: PreparedRecords) => void;
  readonly reject: (error: Error) => void;
  readonly worker: PoolWorker;
}

interface PoolWorker {
  readonly thread: Worker;
  inFlight: number;
}

/** `pipeline.workers`: 0 prepares in the main thread; the default leaves one core to it. */
export function defaultWorkers(): number {
  return Math.min(4, Math.max(1, availableParallelism() - 1));
}

/**
 * Prepares each batch in the least busy of `size` worker threads. A worker that dies fails its
 * jobs (the batches are retried by the pipeline's caller like any failure) and is replaced.
 */
export class WorkerPreparer implements Preparer {
  private readonly workers: PoolWorker[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly options: PrepareOptions,
    size: number,
  ) {
    for (let i = 0; i < size; i += 1) this.workers.push(this.spawn());
  }

  private spawn(): PoolWorker {
    const thread = new Worker(new URL('./prepare-worker.js', import.meta.url), {
      workerData: { options: this.options } satisfies WorkerData,
    });
    const worker: PoolWorker = { thread, inFlight: 0 };
    thread.unref();
    thread.on('message', (message: FromWorker) => this.onMessage(message));
    thread.on('error', (error: Error) => this.lost(worker, error));
    thread.on('exit', (code) => this.lost(worker, new Error(`exited with code ${code}`)));
    return worker;
  }

  private onMessage(message: FromWorker): void {
    const job = this.jobs.get(message.id);
    if (job === undefined) return;
    if (message.kind === 'queries') {
      lookupsFor(message.queries, job.enrichment).then(
        (lookups) => job.worker.thread.postMessage({ kind: 'lookups', id: message.id, lookups } satisfies ToWorker),
        (error: unknown) => this.finish(message.id, undefined, error as Error),
      );
      return;
    }
    if (message.kind === 'prepared') this.finish(message.id, message.prepared);
    else this.finish(message.id, undefined, new Error(message.message));
  }

  private finish(id: number, prepared: PreparedRecords | undefined, error?: Error): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    this.jobs.delete(id);
    job.worker.inFlight -= 1;
    if (prepared !== undefined) job.resolve(prepared);
    else
      job.reject(
        new ForwarderError(
          ForwarderErrorCodes.prepareFailed,
          `a prepare worker failed: ${error?.message ?? 'unknown'}`,
          {
            retriable: true,
            cause: error,
          },
        ),
      );
  }

  private lost(worker: PoolWorker, error: Error): void {
    const index = this.workers.indexOf(worker);
    if (index === -1) return;
    for (const [id, job] of [...this.jobs]) if (job.worker === worker) this.finish(id, undefined, error);
    if (this.closed) return;
    this.workers[index] = this.spawn();
  }

  prepare(
    records: readonly KafkaRecord[],
    enrichment: Enrichment,
    extraFields?: Readonly<Record<string, string>>,
  ): Promise<PreparedRecords> {
    const worker = this.workers.reduce((least, candidate) => (candidate.inFlight < least.inFlight ? candidate : least));
    const id = this.nextId++;
    worker.inFlight += 1;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { enrichment, resolve, reject, worker });
      const batch = packBatch(records);
      worker.thread.postMessage({ kind: 'prepare', id, batch, extraFields } satisfies ToWorker, [batch.bytes]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => worker.thread.terminate()));
  }
}
