import { Worker } from 'node:worker_threads';
import type { ControlMessage, WorkerData } from './control.js';
import { createLineRing, LineRingReader, LineRingWriter, ringBytesFor, type LineRingMemory } from './line-ring.js';
import type { TransportConfig } from './options.js';
import { RecordQueue } from './queue.js';
import { dropReasons, emptyStats, type DeliveryStats, type DropReason } from './stats.js';

/**
 * The worker's records die young: left alone, V8 grows its young generation to 64 MiB over the
 * first minutes of steady logging (RSS +50 MiB, docs/benchmarks.md "Soak") for no gain in
 * delivery rate. Its old generation (the buffer) is not limited here: `buffer.maxBytes` bounds it.
 */
const workerLimits = { maxYoungGenerationSizeMb: 8 };

/** The ring between the app's thread and the worker: 4 MiB, as pino's transport has, or room for the largest record. */
const ringBytes = (maxRecordBytes: number): number => Math.max(4 * 1024 * 1024, ringBytesFor(maxRecordBytes + 1)); // + newline

const newline = 0x0a;

/** How long one wait for the worker to take lines lasts before looking again. */
const recheckMillis = 100;

/**
 * The worker starts from a one-line script that imports worker.js: a worker started from a file
 * inherits the app's `--input-type` (an app run with `-e` or from stdin) and node refuses it there.
 */
const workerBootstrap = `import(${JSON.stringify(new URL('./worker.js', import.meta.url).href)})`;

/** Hand-overs whose worker may still hold lines: each gets its exit-time flush. */
const live = new Set<WorkerHandOver>();
let exitHookInstalled = false;

/** Resolves after `promise` or after `millis`, whichever comes first; never rejects. */
async function within(promise: Promise<unknown>, millis: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, millis))),
  ]);
  clearTimeout(timer);
}

/**
 * The app's side of the SDK's worker: writes pino's lines into the shared ring and never blocks
 * or throws. When the worker falls behind and the ring is full, lines wait here, bounded by
 * `buffer.maxRecords`/`maxBytes` with the buffer's drop policy (drops counted as `queue_full`);
 * once the worker is gone or the hand-over closed, lines go to stdout.
 */
export class WorkerHandOver {
  private readonly worker: Worker;
  private readonly memory: LineRingMemory;
  private readonly ring: LineRingWriter;
  /** Lines written into the ring: what the worker took is this less what it left there. */
  private linesWritten = 0;
  /**
   * Lines the ring had no room for, within the buffer's limits and drop policy; sized in UTF-16
   * code units (what `buffer.maxBytes` bounds here, without encoding them).
   */
  private readonly waiting: RecordQueue<string>;
  /** Moves waiting lines into the ring as the worker makes room, between the app's writes. */
  private mover: Promise<void> | undefined;
  /** Drops on this side, added to the worker's counts. */
  private readonly appDrops: Record<DropReason, number> = {
    queue_full: 0,
    record_too_large: 0,
    kafka_rejected: 0,
    shutdown_timeout: 0,
    worker_failed: 0,
  };
  private latest: DeliveryStats = emptyStats();
  private nextFlushId = 0;
  private readonly pendingFlushes = new Map<number, () => void>();
  private workerClosed: (() => void) | undefined;
  private closing: Promise<DeliveryStats> | undefined;
  private gone = false;
  /** The worker's 'closed' came: it delivered or counted everything it took. */
  private workerSaidClosed = false;

  constructor(private readonly config: TransportConfig) {
    this.waiting = new RecordQueue<string>(config.buffer, (count) => (this.appDrops.queue_full += count));
    const memory = (this.memory = createLineRing(ringBytes(config.maxRecordBytes)));
    this.ring = new LineRingWriter(memory);
    this.worker = new Worker(workerBootstrap, {
      eval: true,
      workerData: { config, ring: memory } satisfies WorkerData,
      resourceLimits: workerLimits,
    });
    this.worker.on('message', (message: ControlMessage) => {
      if (message.type === 'flush') return;
      this.latest = message.stats;
      if (message.type === 'flushed') this.pendingFlushes.get(message.id)?.();
      if (message.type === 'closed') {
        this.workerSaidClosed = true;
        this.workerClosed?.();
      }
    });
    this.worker.on('error', (error: Error) => {
      this.gone = true;
      process.stderr.write(`graybridge log-sdk: worker failed (${error.message}); records go to stdout\n`);
    });
    this.worker.on('exit', () => {
      this.gone = true;
      live.delete(this);
      if (!this.workerSaidClosed)
        this.rescueAfterWorkerDeath(this.closing === undefined ? 'worker_failed' : 'shutdown_timeout');
      for (const resolve of this.pendingFlushes.values()) resolve();
      this.workerClosed?.();
    });
    // The app ends when it would have; its exit flushes (exitSync). Last: adding the first
    // 'message' listener refs the worker's port again, and a ref'd port keeps the app alive forever.
    this.worker.unref();
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const handOver of live) handOver.exitSync();
      });
    }
  }

  /** pino's destination: one serialised record, ending in a newline. */
  write(line: string): void {
    // The ring stops running when close() or the exit hook asked the worker to close: a line
    // logged after that (e.g. from an app 'exit' listener) would never be read.
    if (this.gone || this.closing !== undefined || !this.ring.running) {
      process.stdout.write(line);
      return;
    }
    if ((this.waiting.waiting === 0 || this.moveWaiting()) && this.ring.tryWrite(line)) {
      this.linesWritten += 1;
      return;
    }
    this.wait(line);
  }

  /** The worker's latest counters, with what was dropped or is waiting on this side. */
  stats(): DeliveryStats {
    const latest = this.latest;
    const waitingRecords = this.waiting.waiting;
    if (waitingRecords === 0 && dropReasons.every((reason) => this.appDrops[reason] === 0)) return latest;
    const droppedRecords = { ...latest.droppedRecords };
    for (const reason of dropReasons) droppedRecords[reason] += this.appDrops[reason];
    return {
      ...latest,
      queuedRecords: latest.queuedRecords + waitingRecords,
      queuedBytes: latest.queuedBytes + this.waiting.waitingBytes,
      droppedRecords,
    };
  }

  /** Every line written before the call reaches Kafka or is counted (or the timeout passes). */
  async flush(timeoutMillis: number): Promise<DeliveryStats> {
    if (this.gone) return this.stats();
    const deadline = Date.now() + timeoutMillis;
    this.worker.ref(); // an app awaiting flush at the end of main must not exit under it
    try {
      await this.waitingMoved(deadline);
      const id = (this.nextFlushId += 1);
      await within(
        new Promise<void>((resolve) => {
          this.pendingFlushes.set(id, resolve);
          this.worker.postMessage({
            type: 'flush',
            id,
            timeoutMillis: Math.max(0, deadline - Date.now()),
          } satisfies ControlMessage);
        }),
        Math.max(0, deadline - Date.now()) + 250,
      );
      this.pendingFlushes.delete(id);
    } finally {
      if (this.pendingFlushes.size === 0 && this.closing === undefined) this.worker.unref();
    }
    return this.stats();
  }

  /** Hands over what waits, lets the worker deliver within the shutdown timeout, and stops it. */
  close(): Promise<DeliveryStats> {
    this.closing ??= (async () => {
      if (!this.gone) {
        this.worker.ref();
        const deadline = Date.now() + this.config.shutdownTimeoutMillis;
        await this.waitingMoved(deadline);
        const lastWord = new Promise<void>((resolve) => (this.workerClosed = resolve));
        this.ring.requestClose();
        await within(lastWord, Math.max(0, deadline - Date.now()) + 1000);
      }
      this.dropWaiting();
      live.delete(this);
      await this.worker.terminate();
      return this.stats();
    })();
    return this.closing;
  }

  /**
   * The process is exiting (its event loop is over): hand over what waits and block until the
   * worker has delivered it, within the shutdown timeout — what pino's transports do on exit.
   */
  private exitSync(): void {
    if (this.gone || this.ring.closed) return;
    const deadline = Date.now() + this.config.shutdownTimeoutMillis;
    while (this.ring.running && !this.moveWaiting() && Date.now() < deadline) {
      this.ring.readerMovedSync(Math.min(recheckMillis, deadline - Date.now()));
    }
    this.ring.requestClose();
    // No last word (dead, or still busy past the deadline): its 'exit' event will not be dispatched now.
    if (!this.ring.closedSync(Math.max(0, deadline - Date.now()) + 1000))
      this.rescueAfterWorkerDeath('shutdown_timeout');
    else this.dropWaiting(); // lines still waiting at the deadline
  }

  /** Moves waiting lines into the ring, oldest first; true when none is left waiting. */
  private moveWaiting(): boolean {
    if (this.waiting.waiting === 0) return true;
    // After the close request the worker may have read for the last time: what waits is counted
    // by close() (dropWaiting), not moved where nobody reads it.
    if (!this.ring.running || !this.ring.mayHaveRoom) return false;
    for (let line = this.waiting.peek(); line !== undefined; line = this.waiting.peek()) {
      if (!this.ring.tryWrite(line)) return false;
      this.linesWritten += 1;
      this.waiting.shift();
    }
    return true;
  }

  /** Resolves when nothing waits on this side any more, the worker is gone, or at the deadline. */
  private async waitingMoved(deadline: number): Promise<void> {
    while (!this.moveWaiting() && !this.gone && this.ring.running && Date.now() < deadline) {
      await this.ring.readerMoved(Math.min(recheckMillis, deadline - Date.now()));
    }
  }

  /** A line the ring has no room for: it waits, within the buffer's bounds and drop policy. */
  private wait(line: string): void {
    // The limit is the worker's, on the record without its newline: a record it would take waits.
    const maxLineBytes = this.config.maxRecordBytes + 1;
    if (line.length > maxLineBytes && Buffer.byteLength(line) > maxLineBytes) {
      this.appDrops.record_too_large += 1;
      return;
    }
    if (!this.waiting.push(line)) return;
    // Ends once nothing waits: moved, or counted by close() (dropWaiting), or the worker gone.
    this.mover ??= this.waitingMoved(Number.POSITIVE_INFINITY).finally(() => (this.mover = undefined));
  }

  /**
   * The worker died without its last word (a crash, or terminated at close()'s deadline): what it
   * left in the ring and what waits here go to stdout; what it took but had not reported sent or
   * dropped is counted as `reason` — an upper bound: its last report may be a second old.
   */
  private rescueAfterWorkerDeath(reason: 'worker_failed' | 'shutdown_timeout'): void {
    const reader = new LineRingReader(this.memory); // the worker reads no more (dead, or the process ends)
    let leftInRing = 0;
    for (let lines = reader.read(); lines !== null; lines = reader.read()) {
      for (let at = lines.indexOf(newline); at !== -1; at = lines.indexOf(newline, at + 1)) leftInRing += 1;
      process.stdout.write(lines);
    }
    for (let line = this.waiting.peek(); line !== undefined; line = this.waiting.peek()) {
      process.stdout.write(line);
      this.waiting.shift();
    }
    const { sentRecords, droppedRecords } = this.latest;
    const settled = dropReasons.reduce((sum, reason) => sum + droppedRecords[reason], sentRecords);
    const lost = Math.max(0, this.linesWritten - leftInRing - settled);
    this.appDrops[reason] += lost;
    this.latest = { ...this.latest, queuedRecords: 0, queuedBytes: 0 }; // counted above, or in stdout
    if (lost > 0) process.stderr.write(`graybridge log-sdk: up to ${lost} record(s) lost with the worker (counted)\n`);
  }

  /** What still waits when the shutdown deadline passed (or the worker is gone): counted. */
  private dropWaiting(): void {
    this.appDrops.shutdown_timeout += this.waiting.discardWaiting();
  }
}
