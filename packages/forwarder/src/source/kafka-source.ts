import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import type { KafkaRecord } from '../record.js';
import { clientOptions, explainKafkaError, type KafkaConnection } from './kafka-client.js';

export interface KafkaSourceOptions extends Omit<KafkaConnection, 'clientId'> {
  /** Topic names; a RegExp subscribes to the topics matching it when the source starts. */
  readonly topics: readonly (string | RegExp)[];
  readonly groupId: string;
  /** @defaultValue "graybridge-forwarder" */
  readonly clientId?: string;
  /** A member silent this long loses its partitions. @defaultValue 30000 */
  readonly sessionTimeoutMillis?: number;
  /** Most bytes fetched per partition in one request. @defaultValue 262144 */
  readonly fetchMaxBytesPerPartition?: number;
  /** Most bytes fetched in one request over all partitions. @defaultValue 1048576 */
  readonly fetchMaxBytes?: number;
  /** A new group starts at the oldest retained record. @defaultValue true */
  readonly fromBeginning?: boolean;
  /** How often the lag of the assigned partitions is read from the brokers; 0 = never. @defaultValue 10000 */
  readonly lagIntervalMillis?: number;
  /** Most records handed to the pipeline per partition at once. @defaultValue 2000 */
  readonly maxBatchRecords?: number;
  /**
   * While a backlog is worked off, delivered offsets are committed at most this often, in one
   * request for all partitions; once caught up, after every batch. 0 = after every batch.
   * @defaultValue 500
   */
  readonly commitIntervalMillis?: number;
  /**
   * Told when the handler threw instead of answering (a bug: faults of the input or the endpoint
   * are answered). The batch is held and offered again, uncommitted.
   */
  readonly onHandlerError?: (error: unknown, batch: { topic: string; partition: number; offset: string }) => void;
}

/** What the pipeline says about a batch of one partition. */
export type BatchVerdict =
  /** Every record reached a terminal state (sent, dead-lettered or counted as excluded): commit. */
  | 'done'
  /** Not all could be delivered now: do not commit; the source waits and asks again. */
  | 'retry';

export interface SourceStats {
  readonly batches: number;
  readonly records: number;
  /** Commit requests that landed (each covers every partition with delivered records). */
  readonly commits: number;
  /** Commits the broker refused or that failed (e.g. the coordinator moving); retried until one lands. */
  readonly commitFailures: number;
  /** Times a batch was held back because the sink could not take it (or the handler threw). */
  readonly holds: number;
  /** Times the handler threw instead of answering; each also counts as a hold. */
  readonly handlerErrors: number;
}

/** Records between the group's committed offset and the end of one assigned partition. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/** Whether this member is in its group, with the reason when it is not. */
export interface GroupStatus {
  readonly joined: boolean;
  readonly detail?: string;
}

type Handler = (records: readonly KafkaRecord[]) => Promise<BatchVerdict>;

const partitionKeys = new Map<string, string[]>();

/** `topic␀partition`, built once per partition: the stream's data handler asks for it per record. */
function partitionKey(topic: string, partition: number): string {
  let keys = partitionKeys.get(topic);
  if (keys === undefined) partitionKeys.set(topic, (keys = []));
  return (keys[partition] ??= `${topic}\u0000${partition}`);
}

/** A null key, value or header arrives as an empty or missing buffer, depending on the path. */
const bytes = (value: Buffer | null | undefined): Buffer | null =>
  value === null || value === undefined || value.length === 0 ? null : value;

export function toRecord(message: Message): KafkaRecord {
  const headers: Record<string, Buffer | undefined> = {};
  for (const [name, value] of message.headers) headers[name.toString()] = bytes(value) ?? undefined;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset.toString(),
    timestampMillis: Number(message.timestamp),
    key: bytes(message.key),
    value: bytes(message.value),
    headers,
  };
}

/**
 * The pipeline's first stage: a consumer-group member (@platformatic/kafka) with auto-commit off.
 * The client fetches ahead in the background into a bounded buffer while the pipeline works, so
 * network and decompression overlap with processing. Records are taken from the buffer in
 * micro-batches, split by partition, and each partition's records are handed over strictly in
 * order; a partition's offset is committed only after the handler says every record of the batch
 * reached a terminal state, so the committed offset is always the highest contiguous delivered one.
 * Caught up, that happens after every batch; working off a backlog, at most every
 * `commitIntervalMillis` for all partitions at once (a commit shares the connection with fetches,
 * and one per batch cost a sixth of the time), so a crash redelivers at most that much more.
 * While the handler answers `retry` (the sink is down) the batch is held and offered again after a
 * backoff; the buffer fills and fetching stops, but the client keeps heartbeating, so the group
 * does not rebalance.
 *
 * A rebalance keeps what is buffered for the partitions that stay with this member: the client
 * does not reliably fetch them again (a fetch in flight at the join moves its position past them,
 * and a partition without a committed offset keeps its position), so dropping them would leave a
 * gap that the next commit covers. Whatever the client does fetch again is recognised by its offset
 * and skipped. Records of partitions that went to another member are dropped uncommitted: the new
 * owner delivers them from the group's committed offset.
 */
export class KafkaSource {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly counts = { batches: 0, records: 0, commits: 0, commitFailures: 0, holds: 0, handlerErrors: 0 };
  /** The partitions assigned to this member at its latest join, by `partitionKey`. */
  private owned = new Set<string>();
  /**
   * Per owned partition, the offset of the last record taken into the buffer: a record at or below
   * it was fetched again after a rejoin, and is already buffered or delivered.
   */
  private readonly lastTaken = new Map<string, bigint>();
  /** Set at each join: owned partitions may lack a committed offset (see `commitStartingOffsets`). */
  private startsToCommit = false;
  /** Per partition, the last record delivered but not yet committed (deferred, or the commit failed). */
  private readonly uncommitted = new Map<string, Message>();
  private lastCommitAt = 0;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private group: GroupStatus = { joined: false, detail: 'not started' };
  private lagSample: readonly PartitionLag[] = [];
  private lagTimer: NodeJS.Timeout | undefined;
  private topicNames: string[] = [];
  /** Fetched records not yet handed to the pipeline, in arrival order. */
  private buffer: Message[] = [];
  private wake: (() => void) | undefined;

  constructor(private readonly options: KafkaSourceOptions) {
    const connection = clientOptions({ ...options, clientId: options.clientId ?? 'graybridge-forwarder' });
    this.consumer = new Consumer({
      ...connection,
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMillis ?? 30_000,
      heartbeatInterval: Math.min(3000, Math.floor((options.sessionTimeoutMillis ?? 30_000) / 3)),
      rebalanceTimeout: Math.max(60_000, options.sessionTimeoutMillis ?? 30_000),
    });
    this.admin = new Admin(connection);
    // Registered before the stream's own listener: the new assignment is known before it fetches.
    this.consumer.on('consumer:group:join', () => this.joined());
    this.consumer.on('consumer:group:rebalance', () => (this.group = { joined: false, detail: 'rebalancing' }));
    this.consumer.on('consumer:group:leave', () => (this.group = { joined: false, detail: 'left the group' }));
    this.consumer.on('consumer:heartbeat:error', ({ error }) => {
      this.group = { joined: false, detail: `heartbeat failed: ${explainKafkaError(error)}` };
    });
    this.consumer.on('consumer:heartbeat:end', () => {
      if (!this.group.joined && this.consumer.isActive()) this.group = { joined: true };
    });
  }

  stats(): SourceStats {
    return { ...this.counts };
  }

  groupStatus(): GroupStatus {
    return this.group;
  }

  /** The latest lag reading of the partitions assigned to this member. */
  lag(): readonly PartitionLag[] {
    return this.lagSample;
  }

  /** Joins the group and starts delivering; fails with GB_FORWARDER_SOURCE_UNAVAILABLE naming the cause. */
  async start(handle: Handler): Promise<void> {
    this.group = { joined: false, detail: 'joining' };
    try {
      this.topicNames = await this.resolveTopics();
      this.stream = await this.openStream();
    } catch (error) {
      await Promise.allSettled([this.consumer.close(true), this.admin.close()]);
      throw new ForwarderError(
        ForwarderErrorCodes.sourceUnavailable,
        `cannot consume ${this.topicNames.join(', ') || 'the topics'} as group ${this.options.groupId} from ${this.options.brokers.join(',')}: ${explainKafkaError(error)}`,
        { retriable: true, cause: error },
      );
    }
    this.loop = this.consume(handle);
    const interval = this.options.lagIntervalMillis ?? 10_000;
    if (interval > 0) this.scheduleLag(interval);
  }

  /**
   * Stops taking records, lets the micro-batch in hand finish and commit (a held one is abandoned
   * uncommitted), then leaves the group.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.lagTimer);
    await this.loop;
    await this.commitDelivered(true);
    await this.stream?.close().catch(() => undefined);
    await this.consumer.close().catch(() => undefined);
    await this.admin.close().catch(() => undefined);
  }

  /** Exact names as given; each `RegExp` becomes the existing topics it matches. */
  private async resolveTopics(): Promise<string[]> {
    const names = this.options.topics.filter((t): t is string => typeof t === 'string');
    const patterns = this.options.topics.filter((t): t is RegExp => t instanceof RegExp);
    if (patterns.length > 0) {
      const existing = await this.admin.listTopics();
      names.push(...existing.filter((name) => patterns.some((pattern) => pattern.test(name))));
    }
    return [...new Set(names)];
  }

  private async openStream(): Promise<MessagesStream<Buffer, Buffer, Buffer, Buffer>> {
    // A new stream starts again from the committed offsets: what it fetches twice is skipped.
    const stream = await this.consumer.consume({
      topics: this.topicNames,
      autocommit: false,
      mode: 'committed',
      fallbackMode: this.options.fromBeginning === false ? 'latest' : 'earliest',
      maxBytesPerPartition: this.options.fetchMaxBytesPerPartition ?? 256 * 1024,
      maxBytes: this.options.fetchMaxBytes ?? 1024 * 1024,
      maxWaitTime: 500,
    });
    // Flowing mode into a bounded buffer: paused when full (fetching stops, heartbeats go on).
    stream.on('data', (message: Message) => {
      const key = partitionKey(message.topic, message.partition);
      // Another member's now (a fetch that was in flight at the join), or fetched again.
      if (!this.owned.has(key) && !this.assignedNow(message.topic, message.partition, key)) return;
      const last = this.lastTaken.get(key);
      if (last !== undefined && message.offset <= last) return;
      this.lastTaken.set(key, message.offset);
      this.buffer.push(message);
      if (this.buffer.length >= this.bufferBound) stream.pause();
      this.wake?.();
    });
    stream.on('error', (error: Error) => {
      this.group = { joined: false, detail: `consumer stream failed: ${explainKafkaError(error)}` };
    });
    stream.on('close', () => this.wake?.());
    return stream;
  }

  /** Read through a method: `stop()` changes it while a loop awaits. */
  private isStopping(): boolean {
    return this.stopping;
  }

  /** The client's own view, for a partition assigned without a join event reaching this source. */
  private assignedNow(topic: string, partition: number, key: string): boolean {
    const assigned = (this.consumer.assignments ?? []).some(
      (a) => a.topic === topic && a.partitions.includes(partition),
    );
    if (assigned) this.owned.add(key);
    return assigned;
  }

  private get bufferBound(): number {
    return (this.options.maxBatchRecords ?? 2000) * 4;
  }

  /** A new assignment: forget what went to other members, keep the rest in order. */
  private joined(): void {
    this.group = { joined: true };
    this.startsToCommit = true;
    this.owned = new Set(
      (this.consumer.assignments ?? []).flatMap(({ topic, partitions }) =>
        partitions.map((partition) => partitionKey(topic, partition)),
      ),
    );
    this.buffer = this.buffer.filter((message) => this.owned.has(partitionKey(message.topic, message.partition)));
    for (const key of [...this.lastTaken.keys(), ...this.uncommitted.keys()]) {
      if (!this.owned.has(key)) {
        this.lastTaken.delete(key);
        this.uncommitted.delete(key);
      }
    }
    if (this.stream?.isPaused() === true && this.buffer.length < this.bufferBound) this.stream.resume();
  }

  /** Takes what the buffer has (up to maxBatchRecords), waiting only while it is empty. */
  private async nextMessages(): Promise<Message[]> {
    const max = this.options.maxBatchRecords ?? 2000;
    while (this.buffer.length === 0 && !this.isStopping() && this.stream?.destroyed === false) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const taken = this.buffer.splice(0, max);
    // Fetch again once the pipeline has caught up with half the buffer.
    if (this.stream?.isPaused() === true && this.buffer.length <= max * 2) this.stream.resume();
    return taken;
  }

  private async consume(handle: Handler): Promise<void> {
    while (!this.stopping) {
      if (this.stream?.destroyed !== false) {
        // The client gives up a stream when the group must be rejoined: open a new one.
        this.group = { joined: false, detail: 'reconnecting the consumer stream' };
        await sleep(1000);
        if (this.isStopping()) break;
        try {
          this.stream = await this.openStream();
        } catch (error) {
          this.group = { joined: false, detail: `cannot consume: ${explainKafkaError(error)}` };
        }
        continue;
      }
      if (this.startsToCommit) await this.commitStartingOffsets();
      const messages = await this.nextMessages();
      if (messages.length === 0) {
        await this.commitDelivered(false);
        continue;
      }
      const byPartition = new Map<string, Message[]>();
      for (const message of messages) {
        const key = partitionKey(message.topic, message.partition);
        const list = byPartition.get(key);
        if (list === undefined) byPartition.set(key, [message]);
        else list.push(message);
      }
      await Promise.all([...byPartition.values()].map((batch) => this.deliver(batch, handle)));
      await this.commitDelivered(this.buffer.length === 0);
    }
  }

  /** One partition's records, in order, until done (then committed) or no longer ours. */
  private async deliver(messages: readonly Message[], handle: Handler): Promise<void> {
    const first = messages[0];
    const last = messages.at(-1);
    if (first === undefined || last === undefined) return;
    const records = messages.map(toRecord);
    this.counts.batches += 1;
    const key = partitionKey(first.topic, first.partition);
    for (let attempt = 0; ; attempt += 1) {
      // Revoked (while held): the join dropped the rest of this partition; the new owner delivers it.
      if (!this.owned.has(key)) return;
      const verdict = await this.answer(handle, records);
      if (verdict === 'done') break;
      this.counts.holds += 1;
      if (this.stopping) return; // held at shutdown: not committed, redelivered to the group
      await sleep(Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)));
    }
    this.counts.records += records.length;
    // Revoked while in the sink: sent (a duplicate for the new owner, at worst), not committed.
    if (this.owned.has(key)) this.uncommitted.set(key, last);
  }

  /** The handler's verdict; `retry` when it threw, so that one bad batch does not end the loop (and the process). */
  private async answer(handle: Handler, records: readonly KafkaRecord[]): Promise<BatchVerdict> {
    try {
      return await handle(records);
    } catch (error) {
      this.counts.handlerErrors += 1;
      const first = records[0] as KafkaRecord;
      try {
        this.options.onHandlerError?.(error, { topic: first.topic, partition: first.partition, offset: first.offset });
      } catch {
        // Telling failed too: the count above still shows it.
      }
      return 'retry';
    }
  }

  /**
   * Commits what was delivered: now when `caughtUp` (and at stop), else once `commitIntervalMillis`
   * passed since the last commit. Committed offset = the next one to read: everything before it
   * reached a terminal state. A failed commit stays and goes with the next; partitions no longer
   * ours are left to their new owner, which starts from the last commit that landed.
   */
  private async commitDelivered(caughtUp: boolean): Promise<void> {
    const interval = this.options.commitIntervalMillis ?? 500;
    if (this.uncommitted.size === 0 || (!caughtUp && Date.now() - this.lastCommitAt < interval)) return;
    this.lastCommitAt = Date.now();
    const committing = [...this.uncommitted.values()];
    this.uncommitted.clear();
    if (committing.length === 0) return;
    try {
      await this.consumer.commit({
        offsets: committing.map((last) => ({
          topic: last.topic,
          partition: last.partition,
          offset: last.offset + 1n,
          leaderEpoch: last.leaderEpoch,
        })),
      });
      this.counts.commits += 1;
    } catch {
      this.counts.commitFailures += 1;
      for (const last of committing) {
        const key = partitionKey(last.topic, last.partition);
        if (this.owned.has(key) && !this.uncommitted.has(key)) this.uncommitted.set(key, last);
      }
    }
  }

  /**
   * Commits where the group starts reading (the oldest retained record, or the newest without
   * `fromBeginning`) for each owned partition that has no committed offset yet. At a join the
   * client moves a partition back to its committed offset, but one without keeps its position: had
   * it gone to another member and come back, reading would go on after what this member had
   * fetched before, past records nobody delivered. Never past what this member fetched and has not
   * delivered; runs in the delivery loop, so it never lands after a commit of delivered records; a
   * failure is retried at the loop's next turn.
   */
  private async commitStartingOffsets(): Promise<void> {
    const assignments = this.consumer.assignments ?? [];
    // Where this member's own reading of a partition stands: its first buffered record, or the
    // offset after the last one it took. A start listed later (the newest, without fromBeginning)
    // may lie past records already fetched and not yet delivered.
    const ownStart = new Map([...this.lastTaken].map(([key, last]) => [key, last + 1n]));
    for (let index = this.buffer.length - 1; index >= 0; index -= 1) {
      const message = this.buffer[index] as Message;
      ownStart.set(partitionKey(message.topic, message.partition), message.offset);
    }
    try {
      const committed = await this.consumer.listCommittedOffsets({ topics: assignments });
      const missing = assignments.flatMap(({ topic, partitions }) =>
        partitions
          .filter((partition) => (committed.get(topic)?.[partition] ?? -1n) < 0n)
          // Delivered and about to be committed: that commit is the partition's first.
          .filter((partition) => !this.uncommitted.has(partitionKey(topic, partition)))
          .map((partition) => ({ topic, partition })),
      );
      if (missing.length > 0) {
        const starts = await this.consumer.listOffsets({
          topics: [...new Set(missing.map(({ topic }) => topic))],
          timestamp: this.options.fromBeginning === false ? -1n : -2n,
        });
        const offsets = missing.flatMap(({ topic, partition }) => {
          const listed = starts.get(topic)?.[partition];
          if (listed === undefined) return []; // not listed: left for the next join
          const own = ownStart.get(partitionKey(topic, partition));
          const offset = own !== undefined && own < listed ? own : listed;
          return [{ topic, partition, offset, leaderEpoch: -1 }]; // epoch unknown (KIP-320)
        });
        if (offsets.length > 0) await this.consumer.commit({ offsets });
      }
      this.startsToCommit = false;
    } catch {
      // Brokers unreachable or the group rebalancing: the next turn tries again.
    }
  }

  private scheduleLag(interval: number): void {
    this.lagTimer = setTimeout(() => {
      void this.readLag().finally(() => {
        if (!this.stopping) this.scheduleLag(interval);
      });
    }, interval);
    this.lagTimer.unref();
  }

  /** Lag = end offset − committed offset (or − the oldest retained one before the first commit). */
  private async readLag(): Promise<void> {
    const assignments = this.consumer.assignments ?? [];
    if (assignments.length === 0) {
      this.lagSample = [];
      return;
    }
    try {
      const topics = assignments.map((a) => a.topic);
      const ends = await this.consumer.listOffsets({ topics });
      const starts = await this.consumer.listOffsets({ topics, timestamp: -2n });
      const committed = await this.consumer.listCommittedOffsets({ topics: assignments });
      const sample: PartitionLag[] = [];
      for (const { topic, partitions } of assignments) {
        for (const partition of partitions) {
          const end = ends.get(topic)?.[partition];
          if (end === undefined) continue;
          const done = committed.get(topic)?.[partition] ?? -1n;
          const from =
            done >= 0n ? done : this.options.fromBeginning === false ? end : (starts.get(topic)?.[partition] ?? 0n);
          sample.push({ topic, partition, lag: Math.max(0, Number(end - from)) });
        }
      }
      this.lagSample = sample;
    } catch {
      // Brokers unreachable: keep the last reading; the group status says what is wrong.
    }
  }
}
