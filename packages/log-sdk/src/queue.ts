import type { DropPolicy } from './options.js';

export interface QueueLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly dropPolicy: DropPolicy;
}

/**
 * The bounded buffer between pino and Kafka. Limits cover queued and in-flight records together,
 * so memory stays bounded however long Kafka is away. Records are whole JSON lines: Buffers in the
 * worker, strings (sized in UTF-16 code units) where they wait on the app's side for the ring.
 */
export class RecordQueue<T extends { readonly length: number } = Buffer> {
  private items: T[] = [];
  private head = 0;
  private queuedBytes = 0;
  private inFlightRecords = 0;
  private inFlightBytes = 0;

  constructor(
    private readonly limits: QueueLimits,
    /** `queued` tells whether the dropped record had been accepted (drop-oldest) or not (drop-newest). */
    private readonly onDrop: (count: number, queued: boolean) => void,
  ) {}

  /** Queued (not yet taken) records. */
  get waiting(): number {
    return this.items.length - this.head;
  }

  get waitingBytes(): number {
    return this.queuedBytes;
  }

  /** Queued plus in flight: what counts against the limits. */
  get totalRecords(): number {
    return this.waiting + this.inFlightRecords;
  }

  get totalBytes(): number {
    return this.queuedBytes + this.inFlightBytes;
  }

  /** Adds a record, applying the drop policy when full. Returns false when `record` was dropped. */
  push(record: T): boolean {
    while (this.wouldOverflow(record.length)) {
      if (this.limits.dropPolicy === 'drop-newest' || this.waiting === 0) {
        this.onDrop(1, false);
        return false;
      }
      this.dropOldest();
    }
    this.items.push(record);
    this.queuedBytes += record.length;
    return true;
  }

  /** The oldest waiting record, if any. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Removes the oldest waiting record (handed on, not in flight). */
  shift(): void {
    const first = this.items[this.head];
    if (first === undefined) return;
    this.head += 1;
    this.queuedBytes -= first.length;
    this.compact();
  }

  /**
   * Takes up to `maxRecords`/`maxBytes` from the front (at least one record) and marks them in
   * flight. `recordOverhead` is added per record against `maxBytes` only (what each record costs in
   * the batch beyond its value): the queue's own accounting stays value bytes.
   */
  take(maxRecords: number, maxBytes: number, recordOverhead = 0): T[] {
    let end = this.head;
    let bytes = 0;
    let batchBytes = 0;
    while (end < this.items.length && end - this.head < maxRecords) {
      const size = (this.items[end] as T).length;
      if (end > this.head && batchBytes + size + recordOverhead > maxBytes) break;
      bytes += size;
      batchBytes += size + recordOverhead;
      end += 1;
    }
    const batch = this.items.slice(this.head, end);
    this.head = end;
    this.queuedBytes -= bytes;
    this.inFlightRecords += batch.length;
    this.inFlightBytes += bytes;
    this.compact();
    return batch;
  }

  /** The in-flight batch reached a terminal state (sent or dropped): release its budget. */
  settle(batch: readonly T[]): void {
    this.inFlightRecords -= batch.length;
    for (const record of batch) this.inFlightBytes -= record.length;
  }

  /** Empties the queue (shutdown deadline); returns how many records were discarded. */
  discardWaiting(): number {
    const discarded = this.waiting;
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
    return discarded;
  }

  private wouldOverflow(size: number): boolean {
    return this.totalRecords + 1 > this.limits.maxRecords || this.totalBytes + size > this.limits.maxBytes;
  }

  private dropOldest(): void {
    const oldest = this.items[this.head] as T;
    this.head += 1;
    this.queuedBytes -= oldest.length;
    this.onDrop(1, true);
    this.compact();
  }

  /** Reclaims the consumed prefix now and then, so the array does not grow forever. */
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
