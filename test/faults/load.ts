// The fault suite's load and its proof: simulated pods logging sequence-numbered records through
// the SDK (loadgen.ts, one process each), and a checker that accounts for every sequence number
// at the GELF endpoint (or in the dead letters), counting duplicates and how they arose.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ReceivedMessage } from '@graybridge/forwarder/sinks';
import { inheritedEnv, until } from '../fixtures/processes.js';
import type { DeliveryStats } from '@graybridge/log-sdk';

/** What a simulated pod reports (loadgen.ts), each line prefixed. */
export interface LoadgenReport {
  readonly source: string;
  readonly logged: number;
  readonly done: boolean;
  readonly signal?: string;
  readonly stats: DeliveryStats;
  readonly eventLoopDelayP99Millis: number;
  readonly eventLoopDelayMaxMillis: number;
  readonly peakRssMiB: number;
}

export const reportPrefix = 'LOADGEN ';

const loadgenScript = fileURLToPath(new URL('./loadgen.js', import.meta.url));

export interface LoadPod {
  readonly name: string;
  readonly namespace: string;
  readonly node?: string;
}

export interface LoadOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Tags every record, so a checker counts only its own run. */
  readonly run: string;
  readonly pods: readonly LoadPod[];
  /** Records per second per pod. */
  readonly ratePerPod: number;
  /** Records per pod, then flush and exit; 0 logs until `terminate()`. */
  readonly recordsPerPod: number;
  /** Every Nth record carries a 5,000-byte field (for endpoints that refuse it). */
  readonly poisonEvery?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/** One simulated pod: its latest report and its exit. */
class LoadgenProcess {
  latest: LoadgenReport | undefined;
  final: LoadgenReport | undefined;
  private stderr = '';
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  constructor(readonly child: ChildProcess) {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith(reportPrefix)) continue;
        const parsed = JSON.parse(line.slice(reportPrefix.length)) as LoadgenReport;
        this.latest = parsed;
        if (parsed.done || parsed.signal !== undefined) this.final = parsed;
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  }

  describe(): string {
    return `${JSON.stringify(this.latest)} ${this.stderr.slice(-2000)}`;
  }
}

export class Load {
  private constructor(
    private readonly processes: readonly LoadgenProcess[],
    readonly options: LoadOptions,
  ) {}

  static start(options: LoadOptions): Load {
    const processes = options.pods.map((pod) => {
      const child = spawn(process.execPath, [loadgenScript], {
        env: {
          ...inheritedEnv(),
          GRAYBRIDGE_KAFKA_BROKERS: options.brokers.join(','),
          GRAYBRIDGE_KAFKA_TOPIC: options.topic,
          POD_NAME: pod.name,
          POD_NAMESPACE: pod.namespace,
          ...(pod.node === undefined ? {} : { NODE_NAME: pod.node }),
          CONTAINER_NAME: 'app',
          LOAD_RUN: options.run,
          LOAD_RATE: String(options.ratePerPod),
          LOAD_RECORDS: String(options.recordsPerPod),
          LOAD_POISON_EVERY: String(options.poisonEvery ?? 0),
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return new LoadgenProcess(child);
    });
    return new Load(processes, options);
  }

  /** The pods' latest reports. */
  reports(): LoadgenReport[] {
    return this.processes.flatMap((p) => p.final ?? p.latest ?? []);
  }

  /** Waits until every pod has logged and delivered its count and exited 0. */
  async finished(timeoutMillis: number): Promise<LoadgenReport[]> {
    await until(() => this.processes.every((p) => p.final?.done === true), timeoutMillis, 'load generators finished');
    const exits = await Promise.all(this.processes.map((p) => p.exited));
    exits.forEach(([code], i) => {
      if (code !== 0) throw new Error(`load generator exited ${code}: ${this.processes[i]?.describe()}`);
    });
    return this.reports();
  }

  /** SIGTERM to every pod: each stops logging, reports, and the SDK flushes on the way out. */
  async terminate(): Promise<LoadgenReport[]> {
    for (const p of this.processes) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(this.processes.map((p) => p.exited));
    return this.reports();
  }

  /** Expected sequence numbers per source: 0 … logged-1. */
  expected(): Map<string, number> {
    return new Map(this.reports().map((r) => [r.source, r.logged]));
  }

  /** Records logged over all pods, by their latest reports. */
  total(): number {
    return this.reports().reduce((sum, r) => sum + r.logged, 0);
  }

  /** SIGKILL to every pod still running (cleanup after a failed test). */
  async kill(): Promise<void> {
    for (const p of this.processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.processes.map((p) => p.exited));
  }
}

interface Arrival {
  count: number;
  readonly eventIds: Set<string>;
}

export interface LoadVerdict {
  readonly expected: number;
  readonly delivered: number;
  readonly deadLettered: number;
  /** Sequence numbers neither delivered nor dead-lettered, less the SDK's counted drops: 0 exactly. */
  readonly lost: number;
  readonly lostExamples: readonly string[];
  /** Extra arrivals of a record Kafka holds once: the forwarder sent it again (same `_event_id`). */
  readonly redelivered: number;
  /** Arrivals of the same sequence number under another `_event_id`: the producer sent it twice. */
  readonly reproduced: number;
}

/** Accounts for a load run's records as they arrive at a GELF endpoint. */
export class LoadChecker {
  private readonly arrivals = new Map<string, Map<number, Arrival>>();
  private readonly letters = new Map<string, Set<number>>();
  private readonly arrivedMessages: ReceivedMessage['message'][] = [];

  constructor(readonly run: string) {}

  /** Pass to the receiver's onMessage. */
  readonly accept = (received: ReceivedMessage): void => {
    const fields = received.message.fields;
    if (fields.load_run !== this.run) return;
    const source = String(fields.load_source);
    const seq = Number(fields.load_seq);
    let bySeq = this.arrivals.get(source);
    if (!bySeq) this.arrivals.set(source, (bySeq = new Map<number, Arrival>()));
    let arrival = bySeq.get(seq);
    if (!arrival) bySeq.set(seq, (arrival = { count: 0, eventIds: new Set() }));
    arrival.count += 1;
    arrival.eventIds.add(String(fields.event_id));
    this.arrivedMessages.push(received.message);
  };

  /** A dead letter's original record (the bytes Kafka held). */
  acceptDeadLetter(value: Buffer): void {
    const record = JSON.parse(value.toString()) as { load_run?: string; load_source?: string; load_seq?: number };
    if (record.load_run !== this.run || record.load_source === undefined || record.load_seq === undefined) return;
    let seqs = this.letters.get(record.load_source);
    if (!seqs) this.letters.set(record.load_source, (seqs = new Set()));
    seqs.add(record.load_seq);
  }

  /** Messages of this run that arrived, duplicates included. */
  received(): number {
    return this.arrivedMessages.length;
  }

  messages(): readonly ReceivedMessage['message'][] {
    return this.arrivedMessages;
  }

  /** Distinct `_event_id`s that arrived. */
  eventIds(): string[] {
    const ids: string[] = [];
    for (const bySeq of this.arrivals.values()) for (const arrival of bySeq.values()) ids.push(...arrival.eventIds);
    return ids;
  }

  /** Distinct sequence numbers that arrived. */
  unique(): number {
    let sum = 0;
    for (const bySeq of this.arrivals.values()) sum += bySeq.size;
    return sum;
  }

  /**
   * Every sequence number 0 … n-1 of each source must have arrived or be a dead letter, except
   * `dropped` per source: records the SDK refused and counted (its buffer was full).
   */
  verdict(expected: ReadonlyMap<string, number>, dropped: ReadonlyMap<string, number> = new Map()): LoadVerdict {
    let total = 0;
    let delivered = 0;
    let deadLettered = 0;
    let missing = 0;
    let redelivered = 0;
    let reproduced = 0;
    const lostExamples: string[] = [];
    for (const [source, count] of expected) {
      total += count;
      const bySeq: ReadonlyMap<number, Arrival> = this.arrivals.get(source) ?? new Map<number, Arrival>();
      const letters = this.letters.get(source) ?? new Set<number>();
      for (let seq = 0; seq < count; seq += 1) {
        const arrival = bySeq.get(seq);
        if (arrival) {
          delivered += 1;
          redelivered += arrival.count - arrival.eventIds.size;
          reproduced += arrival.eventIds.size - 1;
        } else if (letters.has(seq)) deadLettered += 1;
        else {
          missing += 1;
          if (lostExamples.length < 5) lostExamples.push(`${source}#${seq}`);
        }
      }
      // Exact: a dropped record that arrived anyway makes this negative, and that is wrong too.
      missing -= dropped.get(source) ?? 0;
    }
    return { expected: total, delivered, deadLettered, lost: missing, lostExamples, redelivered, reproduced };
  }
}
