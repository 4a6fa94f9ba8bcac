/**
 * The hand-over from the app's thread to the SDK's worker: one writer, one reader, lines of UTF-8
 * in a ring of shared memory. The app's thread encodes each line straight into the ring when
 * pino writes it — no Buffer per line, nothing held until the event loop turns — so a worker
 * reads while an app logs in a synchronous loop, and the app's memory does not fill with lines
 * (pino's own transport copies lines into its shared buffer only from a `setImmediate`).
 *
 * A line is never split at the ring's end: the writer records where the data stops (`end`) and
 * goes on at 0. The worker sleeps in `Atomics.waitAsync` when the ring is empty and says so
 * (`readerWaiting`); the writer wakes it only then, so a busy worker costs the app no syscall.
 * The reader sleeps on that flag itself, not on `write`: whoever wakes it clears the flag, and a
 * sleep on a cleared flag returns at once. A wake-up that lands between the reader's last check
 * and its sleep — a close request, or a writer that saw the flag of an earlier sleep — is
 * therefore never slept through.
 * Each slot of the state has a cache line of its own, and the writer re-reads the reader's
 * position only when the one it knows leaves too little room: the two threads do not make each
 * other's caches miss on every line.
 */

/** Int32 slots per 64-byte cache line. */
const stride = 16;

/** Slots of the state array. */
const slot = {
  /** Where the writer writes next. */
  write: 0,
  /** Where the reader reads next. */
  read: stride,
  /** Where the data before a wrap to 0 stops. */
  end: 2 * stride,
  /** 1 while the reader sleeps until `write` moves or a close is asked; the waker sets it to 0. */
  readerWaiting: 3 * stride,
  /** 0 running; 1 the app asks the worker to deliver what it has and close; 2 the worker closed. */
  lifecycle: 4 * stride,
} as const;

const lifecycle = { running: 0, closeRequested: 1, closed: 2 } as const;

/** The ring's shared memory: what crosses to the worker in `workerData`. */
export interface LineRingMemory {
  readonly state: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
}

export function createLineRing(capacityBytes: number): LineRingMemory {
  return {
    state: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (slot.lifecycle + stride)),
    data: new SharedArrayBuffer(capacityBytes),
  };
}

/**
 * The ring's size for lines of up to `maxLineBytes`: twice that and one, so that once the reader
 * caught up such a line fits wherever the ring stands (before its end, or from 0 to the reader;
 * one byte stays free to tell a full ring from an empty one).
 */
export const ringBytesFor = (maxLineBytes: number): number => 2 * maxLineBytes + 1;

/** UTF-8 needs at most 3 bytes per UTF-16 code unit: a line this short surely fits its space. */
const maxBytesPerCodeUnit = 3;

export class LineRingWriter {
  private readonly state: Int32Array;
  private readonly data: Buffer;
  private write = 0;
  /** The reader's position as last read: it is at least there. */
  private knownRead = 0;
  /** The reader's position when a line was last refused (-1 after a success): what to wait on. */
  private refusedAtRead = -1;
  /** Set by requestClose (only the writer asks): the reader may read its last line at any moment. */
  private closeRequested = false;

  constructor(memory: LineRingMemory) {
    this.state = new Int32Array(memory.state);
    this.data = Buffer.from(memory.data);
  }

  /** Writes a whole line, or nothing and returns false when it does not fit right now. */
  tryWrite(line: string): boolean {
    if (line === '') return true;
    let at = this.placeFor(line, this.knownRead);
    if (at === -1) {
      const read = Atomics.load(this.state, slot.read);
      if (read !== this.knownRead) {
        this.knownRead = read;
        at = this.placeFor(line, read);
      }
      if (at === -1) {
        this.refusedAtRead = read;
        return false;
      }
    }
    if (at === 0 && this.write !== 0) Atomics.store(this.state, slot.end, this.write);
    this.write = at + this.data.write(line, at);
    this.refusedAtRead = -1;
    Atomics.store(this.state, slot.write, this.write);
    this.wakeReader();
    return true;
  }

  /**
   * Where `line` goes with the reader at `read`: at the write position, at 0 (a wrap), or -1 (no
   * room). A `read` the reader has since left behind only understates the room.
   */
  private placeFor(line: string, read: number): number {
    const at = this.write;
    // Contiguous room at `at`; when the data does not wrap yet, also from 0 up to `read`.
    const room = at >= read ? this.data.length - at - (read === 0 ? 1 : 0) : read - at - 1;
    if (line.length * maxBytesPerCodeUnit <= room) return at;
    const bytes = Buffer.byteLength(line);
    if (bytes <= room) return at;
    return at >= read && bytes <= read - 1 ? 0 : -1;
  }

  /** False while the reader has not moved since a line was refused: a retry would be refused too. */
  get mayHaveRoom(): boolean {
    return this.refusedAtRead === -1 || Atomics.load(this.state, slot.read) !== this.refusedAtRead;
  }

  /** Resolves when the reader moved since a line was refused (or after `millis`): room to write again. */
  async readerMoved(millis: number): Promise<void> {
    if (this.refusedAtRead === -1) return;
    const waited = Atomics.waitAsync(this.state, slot.read, this.refusedAtRead, millis);
    if (waited.async) await waited.value;
  }

  /** The same, blocking this thread: exit handling only. */
  readerMovedSync(millis: number): void {
    if (this.refusedAtRead !== -1) Atomics.wait(this.state, slot.read, this.refusedAtRead, millis);
  }

  /** Asks the worker to deliver what it has and close (once: a worker that closed stays closed). */
  requestClose(): void {
    this.closeRequested = true;
    Atomics.compareExchange(this.state, slot.lifecycle, lifecycle.running, lifecycle.closeRequested);
    this.wakeReader();
  }

  /** Clears the reader's flag and wakes it, if it sleeps (a load first: a busy reader costs no locked write). */
  private wakeReader(): void {
    if (
      Atomics.load(this.state, slot.readerWaiting) === 1 &&
      Atomics.compareExchange(this.state, slot.readerWaiting, 1, 0) === 1
    ) {
      Atomics.notify(this.state, slot.readerWaiting);
    }
  }

  /** False once a close was asked: a line written later might never be read. */
  get running(): boolean {
    return !this.closeRequested;
  }

  get closed(): boolean {
    return Atomics.load(this.state, slot.lifecycle) === lifecycle.closed;
  }

  /** Blocks this thread until the worker closed, or `millis` passed: exit handling only. True once closed. */
  closedSync(millis: number): boolean {
    Atomics.wait(this.state, slot.lifecycle, lifecycle.closeRequested, millis);
    return this.closed;
  }
}

export class LineRingReader {
  private readonly state: Int32Array;
  private readonly data: Buffer;
  /** `write` as the last read saw it: what `writerMoved` waits to change. */
  private seenWrite = 0;

  constructor(memory: LineRingMemory) {
    this.state = new Int32Array(memory.state);
    this.data = Buffer.from(memory.data);
  }

  /** A copy of the complete lines written since the last call (at most up to the ring's end), or null. */
  read(): Buffer | null {
    let read = Atomics.load(this.state, slot.read);
    const write = (this.seenWrite = Atomics.load(this.state, slot.write));
    if (write < read && read === Atomics.load(this.state, slot.end)) read = 0; // the writer wrapped
    const stop = write >= read ? write : Atomics.load(this.state, slot.end);
    if (stop === read) return null;
    const lines = Buffer.from(this.data.subarray(read, stop));
    this.advance(stop);
    return lines;
  }

  /** Everything written so far, as one copy: for a flush, which must not miss a line. */
  readAll(): Buffer | null {
    const first = this.read();
    const second = first === null ? null : this.read();
    return second === null ? first : Buffer.concat([first as Buffer, second]);
  }

  private advance(read: number): void {
    if (Atomics.load(this.state, slot.read) === read) return;
    Atomics.store(this.state, slot.read, read);
    Atomics.notify(this.state, slot.read);
  }

  get closeRequested(): boolean {
    return Atomics.load(this.state, slot.lifecycle) === lifecycle.closeRequested;
  }

  markClosed(): void {
    Atomics.store(this.state, slot.lifecycle, lifecycle.closed);
    Atomics.notify(this.state, slot.lifecycle);
  }

  /**
   * Resolves once the writer wrote more than the last `read` saw or asked to close, or after
   * `millis` (a safety net: a missed wake-up costs at most that much delay, never a stall).
   */
  async writerMoved(millis: number): Promise<void> {
    const write = this.seenWrite;
    Atomics.store(this.state, slot.readerWaiting, 1);
    // Checked after raising the flag: a write since the last read is not slept through.
    if (Atomics.load(this.state, slot.write) !== write || this.closeRequested) {
      Atomics.store(this.state, slot.readerWaiting, 0);
      return;
    }
    // Sleeps only while the flag is still raised: a writer or a close request that came after the
    // check above has cleared it already.
    const waited = Atomics.waitAsync(this.state, slot.readerWaiting, 1, millis);
    if (waited.async) await waited.value;
    Atomics.store(this.state, slot.readerWaiting, 0);
  }
}
