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
  /** Times a batch was held back because the sink could not take it. */
  readonly holds: number;
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
 * does not rebalance. Records of a partition this member no longer owns are dropped uncommitted:
 * the new owner delivers them.
 */
export class KafkaSource {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly counts = { batches: 0, records: 0, commits: 0, commitFailures: 0, holds: 0 };
  /**
   * Per partition, the first offset of a batch given up when the partition was revoked: until the
   * next join, later records of that partition are stale and must not be delivered (or committed).
   */
  private readonly abandonedFrom = new Map<string, bigint>();
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
    this.consumer.on('consumer:group:join', () => {
      this.group = { joined: true };
      // The stream fetches again from the committed offsets for the new assignment: what the buffer
      // holds was fetched for the old one, and delivering it could commit past a batch it abandoned.
      this.buffer = [];
      this.abandonedFrom.clear();
      if (this.stream?.isPaused() === true) this.stream.resume();
    });
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
    const bound = (this.options.maxBatchRecords ?? 2000) * 4;
    this.buffer = []; // a new stream starts again from the committed offsets
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
      this.buffer.push(message);
      if (this.buffer.length >= bound) stream.pause();
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

  private owns(topic: string, partition: number): boolean {
    return (this.consumer.assignments ?? []).some((a) => a.topic === topic && a.partitions.includes(partition));
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
      const messages = await this.nextMessages();
      if (messages.length === 0) {
        await this.commitDelivered(false);
        continue;
      }
      const byPartition = new Map<string, Message[]>();
      for (const message of messages) {
        const key = `${message.topic}\u0000${message.partition}`;
        const abandoned = this.abandonedFrom.get(key);
        if (abandoned !== undefined && message.offset > abandoned) continue;
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
    for (let attempt = 0; ; attempt += 1) {
      if (!this.owns(first.topic, first.partition)) {
        // Revoked: the new owner delivers them; nothing after them may be committed by this member.
        const key = `${first.topic}\u0000${first.partition}`;
        const known = this.abandonedFrom.get(key);
        if (known === undefined || first.offset < known) this.abandonedFrom.set(key, first.offset);
        return;
      }
      const verdict = await handle(records);
      if (verdict === 'done') break;
      this.counts.holds += 1;
      if (this.stopping) return; // held at shutdown: not committed, redelivered to the group
      await sleep(Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)));
    }
    this.counts.records += records.length;
    this.uncommitted.set(`${last.topic}\u0000${last.partition}`, last);
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
    const committing = [...this.uncommitted.values()].filter((last) => this.owns(last.topic, last.partition));
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
        const key = `${last.topic}\u0000${last.partition}`;
        if (this.owns(last.topic, last.partition) && !this.uncommitted.has(key)) this.uncommitted.set(key, last);
      }
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
