/** GELF UDP chunk header: magic 1e 0f, message id (8 bytes), sequence number, sequence count. */
export const chunkMagic = [0x1e, 0x0f] as const;
export const chunkHeaderBytes = 12;
export const maxChunks = 128;

export function isChunk(datagram: Buffer): boolean {
  return datagram.length >= chunkHeaderBytes && datagram[0] === chunkMagic[0] && datagram[1] === chunkMagic[1];
}

interface Pending {
  readonly firstSeenAt: number;
  readonly count: number;
  readonly parts: (Buffer | undefined)[];
  received: number;
}

export interface ChunkStats {
  readonly completed: number;
  /** Incomplete after `expiryMillis`: Graylog drops these silently. */
  readonly expired: number;
  /** seq ≥ count, count 0 or over 128: dropped. */
  readonly invalid: number;
}

/**
 * Reassembles chunked GELF datagrams as Graylog's GelfChunkAggregator does: keyed by message id
 * only, out of order is fine, a duplicate sequence number keeps the first, at most 128 chunks, and
 * a message incomplete 5 s after its first chunk is dropped.
 */
export class ChunkAggregator {
  private readonly pending = new Map<string, Pending>();
  private completed = 0;
  private expired = 0;
  private invalid = 0;

  constructor(
    private readonly expiryMillis = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds a chunk; returns the whole payload when this chunk completed it. */
  add(datagram: Buffer): Buffer | undefined {
    this.expire();
    const id = datagram.subarray(2, 10).toString('hex');
    const sequence = datagram[10] ?? 0;
    const count = datagram[11] ?? 0;
    if (count === 0 || count > maxChunks || sequence >= count) {
      this.invalid += 1;
      return undefined;
    }
    let entry = this.pending.get(id);
    if (entry === undefined) {
      entry = { firstSeenAt: this.now(), count, parts: new Array<Buffer | undefined>(count), received: 0 };
      this.pending.set(id, entry);
    }
    if (entry.count !== count) {
      this.invalid += 1;
      return undefined;
    }
    if (entry.parts[sequence] !== undefined) return undefined; // duplicate: the first wins
    entry.parts[sequence] = Buffer.from(datagram.subarray(chunkHeaderBytes));
    entry.received += 1;
    if (entry.received < entry.count) return undefined;
    this.pending.delete(id);
    this.completed += 1;
    return Buffer.concat(entry.parts as Buffer[]);
  }

  /** Drops messages whose first chunk is older than the expiry. */
  expire(): void {
    const cutoff = this.now() - this.expiryMillis;
    for (const [id, entry] of this.pending) {
      if (entry.firstSeenAt > cutoff) continue;
      this.pending.delete(id);
      this.expired += 1;
    }
  }

  stats(): ChunkStats {
    return { completed: this.completed, expired: this.expired, invalid: this.invalid };
  }
}
