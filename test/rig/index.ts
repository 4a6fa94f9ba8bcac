import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka, type KafkaEndpoint } from './kafka.js';
import { startKube, type KubeEndpoint } from './kube.js';
import { installScript } from './paths.js';
import { isAlive, runInstallScript, stopService, type ServiceProcess } from './process.js';
import { startRedis, type RedisEndpoint } from './redis.js';

export type { KafkaEndpoint, KafkaSecureListener } from './kafka.js';
export type { KubeEndpoint } from './kube.js';
export type { RedisEndpoint } from './redis.js';
export { freePort, stopService, type ServiceProcess } from './process.js';
export { createTopics, RestartableKafka, startKafka, type KafkaStartOptions } from './kafka.js';
export { startRedis, type RedisStartOptions } from './redis.js';
export { makeServerCertificate, type CertificateFiles } from './tls.js';
export { startKube, startApiserver, type ApiserverLaunch, type KubeStartOptions } from './kube.js';

/** What a test file can ask the rig for. `kafka-secure` is a second broker with TLS + SASL. */
export type RigPart = 'kafka' | 'kafka-secure' | 'redis' | 'kube' | 'helm' | 'kcat' | 'oracle';
export const allRigParts: readonly RigPart[] = ['kafka', 'kafka-secure', 'redis', 'kube', 'helm', 'kcat', 'oracle'];

export interface ToolEndpoint {
  readonly binary: string;
  readonly version: string;
}

/** Everything a started rig offers; written to `state.json` in its directory. */
export interface RigState {
  readonly dir: string;
  kafka?: KafkaEndpoint;
  kafkaSecure?: KafkaEndpoint;
  redis?: RedisEndpoint;
  kube?: KubeEndpoint;
  helm?: ToolEndpoint;
  kcat?: ToolEndpoint;
  /** Graylog's GELF decoder (graylog2-server) behind a line protocol: `java -cp <classpath> org.graylog2.plugin.GelfOracle`. */
  oracle?: { readonly java: string; readonly classpath: string; readonly graylog: string };
  processes: ServiceProcess[];
}

/** Env var naming the state file of a rig that is already up (set by `npm test` and `rig env`). */
export const rigStateEnv = 'GRAYBRIDGE_RIG_STATE';

export interface StartRigOptions {
  /** Where data, logs and state live. Default: a new temp directory. */
  readonly dir?: string;
  /** The rig's services die with this process (watchdog). Omit for a rig that outlives its starter. */
  readonly ownerPid?: number;
}

function statePath(dir: string): string {
  return join(dir, 'state.json');
}

export function readRigState(file: string): RigState {
  return JSON.parse(readFileSync(file, 'utf8')) as RigState;
}

function writeRigState(state: RigState): void {
  writeFileSync(statePath(state.dir), JSON.stringify(state, null, 2) + '\n');
}

function hasPart(state: RigState, part: RigPart): boolean {
  switch (part) {
    case 'kafka':
      return state.kafka !== undefined && serviceAlive(state, 'kafka');
    case 'kafka-secure':
      return state.kafkaSecure !== undefined && serviceAlive(state, 'kafka-secure');
    case 'redis':
      return state.redis !== undefined && serviceAlive(state, 'redis');
    case 'kube':
      return state.kube !== undefined && serviceAlive(state, 'kube-apiserver') && serviceAlive(state, 'etcd');
    case 'helm':
      return state.helm !== undefined;
    case 'kcat':
      return state.kcat !== undefined;
    case 'oracle':
      return state.oracle !== undefined;
  }
}

function serviceAlive(state: RigState, name: string): boolean {
  return state.processes.some((p) => p.name === name && isAlive(p.pid));
}

/**
 * Starts the parts not yet running in the rig at `options.dir` (idempotent: a part that is up is
 * left alone). On failure, whatever this call started is stopped again.
 */
export async function startRig(parts: readonly RigPart[], options: StartRigOptions = {}): Promise<RigState> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'graybridge-rig-'));
  mkdirSync(dir, { recursive: true });
  const state: RigState = existsSync(statePath(dir)) ? readRigState(statePath(dir)) : { dir, processes: [] };
  state.processes = state.processes.filter((p) => isAlive(p.pid));
  const owner = options.ownerPid === undefined ? {} : { ownerPid: options.ownerPid };
  const startedNow: ServiceProcess[] = [];
  const pending = parts.filter((part) => !hasPart(state, part));
  // Slow parts start concurrently: two JVM/Go start-ups overlap well on two cores. allSettled, not
  // all: on a failure every part that did start must be known, to be stopped again.
  const outcomes = await Promise.allSettled(
    pending.map(async (part) => {
      switch (part) {
        case 'kafka': {
          const started = await startKafka({ dir: join(dir, 'kafka'), ...owner });
          state.kafka = started.endpoint;
          startedNow.push(started.process);
          return;
        }
        case 'kafka-secure': {
          const started = await startKafka({ dir: join(dir, 'kafka-secure'), secure: true, ...owner });
          state.kafkaSecure = started.endpoint;
          startedNow.push({ ...started.process, name: 'kafka-secure' });
          return;
        }
        case 'redis': {
          const started = await startRedis({ dir: join(dir, 'redis'), ...owner });
          state.redis = started.endpoint;
          startedNow.push(started.process);
          return;
        }
        case 'kube': {
          const started = await startKube({ dir: join(dir, 'kube'), ...owner });
          state.kube = started.endpoint;
          startedNow.push(...started.processes);
          return;
        }
        case 'helm': {
          const binary = runInstallScript(installScript('helm')).split('\n').at(-1) ?? '';
          const version = execFileSync(binary, ['version', '--short'], { encoding: 'utf8' }).trim();
          state.helm = { binary, version };
          return;
        }
        case 'kcat': {
          runInstallScript(installScript('debian'));
          const binary = execFileSync('sh', ['-c', 'command -v kcat'], { encoding: 'utf8' }).trim();
          const version = /kcat - Apache Kafka producer and consumer tool.*?\n.*?Version (\S+)/s.exec(
            execFileSync(binary, ['-V'], { encoding: 'utf8' }),
          )?.[1];
          state.kcat = { binary, version: version ?? 'unknown' };
          return;
        }
        case 'oracle': {
          const classpath = runInstallScript(installScript('oracle')).split('\n').at(-1) ?? '';
          // graylog2-server 6.x runs on Java 17 (7.x needs 21): Debian's JDK 17 when present.
          const java17 = '/usr/lib/jvm/java-17-openjdk-amd64/bin/java';
          state.oracle = { java: existsSync(java17) ? java17 : 'java', classpath, graylog: '6.3.7' };
          return;
        }
      }
    }),
  );
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(startedNow.map((p) => stopService(p.pid)));
    throw failure.reason;
  }
  state.processes.push(...startedNow);
  writeRigState(state);
  return state;
}

/** Shell `export` lines for a rig: what tests, the demo and a person at a shell read. */
export function rigEnvironment(state: RigState): Record<string, string> {
  const env: Record<string, string> = { [rigStateEnv]: join(state.dir, 'state.json') };
  if (state.kafka) env.GRAYBRIDGE_KAFKA_BROKERS = state.kafka.brokers.join(',');
  if (state.redis) env.GRAYBRIDGE_REDIS_URL = state.redis.url;
  if (state.kube) env.KUBECONFIG = state.kube.kubeconfig;
  if (state.helm) env.HELM_BIN = state.helm.binary;
  return env;
}

/** Stops every service of the rig and removes its directory. */
export async function stopRig(state: RigState, options: { keepDir?: boolean } = {}): Promise<void> {
  await Promise.all(state.processes.map((p) => stopService(p.pid)));
  if (options.keepDir !== true) rmSync(state.dir, { recursive: true, force: true });
}

/**
 * node:test helper: gives the test file a rig with `parts`. Uses the rig `npm test` started (via
 * GRAYBRIDGE_RIG_STATE) when it has those parts; otherwise starts its own, tied to this process,
 * and stops it after the file's tests, pass or fail.
 */
export function useRig(parts: readonly RigPart[], options: { timeoutMillis?: number } = {}): () => RigState {
  let state: RigState | undefined;
  let owned = false;
  before(
    async () => {
      const shared = process.env[rigStateEnv];
      if (shared !== undefined && existsSync(shared)) {
        const candidate = readRigState(shared);
        if (parts.every((part) => hasPart(candidate, part))) {
          state = candidate;
          return;
        }
      }
      owned = true;
      state = await startRig(parts, { ownerPid: process.pid });
    },
    { timeout: options.timeoutMillis ?? 600_000 },
  );
  after(async () => {
    if (owned && state !== undefined) await stopRig(state);
  });
  return () => {
    if (state === undefined) throw new Error('the rig is not up yet: call the getter inside a test or hook');
    return state;
  };
}

/**
 * For tests: polls `check` until it answers something other than `false` or `undefined`, and
 * resolves with that; rejects after `timeoutMillis` with `what` (a function when the message
 * should say how far it got).
 */
export async function until<T>(
  check: () => T | false | undefined | Promise<T | false | undefined>,
  timeoutMillis: number,
  what: string | (() => string),
  everyMillis = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const answer = await check();
    if (answer !== false && answer !== undefined) return answer;
    if (Date.now() > deadline) {
      throw new Error(`${typeof what === 'string' ? what : what()}: not within ${timeoutMillis} ms`);
    }
    await sleep(everyMillis);
  }
}

/** For tests: waits until `items` holds at least `count` entries (received messages, events…). */
export function untilCount(items: readonly unknown[], count: number, timeoutMillis = 5000): Promise<true> {
  return until(
    () => items.length >= count,
    timeoutMillis,
    () => `only ${items.length} of ${count} arrived`,
  );
}
