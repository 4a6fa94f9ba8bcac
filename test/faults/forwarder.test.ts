// No loss, measured: simulated pods log sequence-numbered records through the SDK while
// `graybridge forward` is hurt in each way the issue names; a checker then accounts for every
// sequence number at the GELF endpoint (or in the dead letters) and bounds the duplicates.
// `npm test` runs short faults; `npm run test:faults` the full ones (scale.ts).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  freePort,
  RestartableKafka,
  startApiserver,
  startKube,
  startRedis,
  stopService,
  useRig,
  type ServiceProcess,
} from '@graybridge/rig';
import { startGelfReceiver, type GelfReceiver } from '@graybridge/forwarder/sinks';
import { committedOffsets, createTopic } from '../fixtures/kafka.js';
import { runGraybridge, startForwarderProcess, until, type ForwarderProcess } from '../fixtures/processes.js';
import { createDeploymentPod } from '../fixtures/workload.js';
import { Load, LoadChecker, type LoadPod } from './load.js';
import { FaultProxy } from './proxy.js';
import { recordFault, scale } from './scale.js';

const rig = useRig(['kafka']);
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Small batches and fetches, so that a fault lands in the middle of the stream. */
const maxBatchRecords = 200;

function forwarderEnv(
  brokers: readonly string[],
  topic: string,
  groupId: string,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
    GRAYBRIDGE_KAFKA_TOPICS: topic,
    GRAYBRIDGE_KAFKA_GROUP_ID: groupId,
    GRAYBRIDGE_KAFKA_MAX_BATCH_RECORDS: String(maxBatchRecords),
    GRAYBRIDGE_KAFKA_FETCH_MAX_BYTES_PER_PARTITION: '32768',
    GRAYBRIDGE_KAFKA_SESSION_TIMEOUT_MILLIS: '6000',
    GRAYBRIDGE_GELF_CONNECT_TIMEOUT_MILLIS: '500',
    GRAYBRIDGE_GELF_RETRY_INITIAL_MILLIS: '100',
    GRAYBRIDGE_GELF_RETRY_MAX_MILLIS: '1000',
    GRAYBRIDGE_GELF_BREAKER_COOLDOWN_MILLIS: '1000',
    GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
    GRAYBRIDGE_OPS_LAG_INTERVAL_MILLIS: '300',
    GRAYBRIDGE_OPS_HOST: '127.0.0.1',
    ...extra,
  };
}

const pods = (namespace: string, count: number): LoadPod[] =>
  Array.from({ length: count }, (_, i) => ({ name: `load-${i}`, namespace }));

/** A GELF TCP endpoint feeding a checker. */
async function tcpEndpoint(checker: LoadChecker): Promise<GelfReceiver> {
  const receiver = await startGelfReceiver({ host: '127.0.0.1', tcp: { port: 0 }, onMessage: checker.accept });
  cleanups.push(() => receiver.close());
  return receiver;
}

async function lagIsZero(forwarder: ForwarderProcess): Promise<boolean> {
  return (await forwarder.metric('graybridge_consumer_lag_records')) === 0;
}

/** Seconds from `since` until `done` holds. */
async function secondsUntil(since: number, done: () => Promise<boolean> | boolean, what: string): Promise<number> {
  await until(done, 120_000, what);
  return (Date.now() - since) / 1000;
}

async function stopCleanly(forwarder: ForwarderProcess): Promise<void> {
  assert.deepEqual(await forwarder.stop('SIGTERM'), { code: 0, signal: null }, forwarder.stderr());
}

/** Partition and offset of an `_event_id` (`<topic>-<partition>-<offset>`). */
function position(eventId: string): { partition: number; offset: number } {
  const [, partition = '', offset = ''] = /-(\d+)-(\d+)$/.exec(eventId) ?? [];
  return { partition: Number(partition), offset: Number(offset) };
}

describe('no loss under faults: load through the SDK, graybridge forward hurt, every record accounted for', () => {
  it(
    `SIGKILL of the forwarder at random points, ${scale.kills} times in a row`,
    { timeout: scale.testTimeoutMillis },
    async (t) => {
      const brokers = [...(rig().kafka?.brokers ?? [])];
      const run = `kill-${randomUUID().slice(0, 8)}`;
      const topic = await createTopic(brokers, 'faults-kill', 3);
      const groupId = `faults-kill-${randomUUID().slice(0, 8)}`;
      const checker = new LoadChecker(run);
      const endpoint = await tcpEndpoint(checker);
      const env = forwarderEnv(brokers, topic, groupId, {
        GRAYBRIDGE_GELF_HOST: '127.0.0.1',
        GRAYBRIDGE_GELF_PORT: String(endpoint.ports.tcp ?? 0),
      });
      const load = Load.start({ brokers, topic, run, pods: pods('shop', 3), ratePerPod: 300, recordsPerPod: 0 });
      cleanups.push(() => load.kill());
      // Each kill lands on a forwarder that has delivered for a random while; what it had delivered
      // but not committed then is the most that may arrive twice.
      let window = 0;
      const delays: number[] = [];
      for (let kill = 0; kill < scale.kills; kill += 1) {
        const forwarder = await startForwarderProcess(env);
        const before = checker.received();
        await until(() => checker.received() > before, 30_000, `kill ${kill + 1}: delivering`);
        const delay = Math.floor(Math.random() * 400);
        delays.push(delay);
        await sleep(delay);
        assert.deepEqual(await forwarder.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
        const committed = await committedOffsets(brokers, groupId, topic);
        window += checker.eventIds().filter((id) => {
          const { partition, offset } = position(id);
          return offset >= (committed.get(partition) ?? -1);
        }).length;
      }
      const last = await startForwarderProcess(env);
      const restarted = Date.now();
      await load.terminate();
      const expected = load.expected();
      const total = load.total();
      const recoverySeconds = await secondsUntil(restarted, () => checker.unique() >= total, `all ${total} records`);
      await until(() => lagIsZero(last), 20_000, 'lag 0');
      await stopCleanly(last);
      const verdict = checker.verdict(expected);
      recordFault(t, {
        fault: `SIGKILL ×${scale.kills}`,
        verdict,
        window: { records: window, what: 'delivered but not committed at the kills' },
        recoverySeconds,
        notes: `kills after ${delays.join(', ')} ms of delivery`,
      });
      assert.equal(verdict.lost, 0, `lost: ${verdict.lostExamples.join(', ')}`);
      assert.equal(verdict.reproduced, 0);
      assert.ok(verdict.redelivered <= window, `${verdict.redelivered} redelivered, window ${window}`);
    },
  );

  for (const fault of ['down', 'slow', 'resetting'] as const) {
    const what = {
      down: `GELF endpoint down ${scale.outageMillis / 1000} s`,
      slow: `GELF endpoint slow (1 s per write) for ${scale.degradedMillis / 1000} s`,
      resetting: `GELF endpoint resetting connections every 500 ms for ${scale.degradedMillis / 1000} s`,
    }[fault];
    it(what, { timeout: scale.testTimeoutMillis }, async (t) => {
      const brokers = [...(rig().kafka?.brokers ?? [])];
      const run = `${fault}-${randomUUID().slice(0, 8)}`;
      const topic = await createTopic(brokers, `faults-${fault}`, 2);
      const checker = new LoadChecker(run);
      const endpoint = await tcpEndpoint(checker);
      const proxy = await FaultProxy.start(endpoint.ports.tcp ?? 0);
      cleanups.push(() => proxy.close());
      const forwarder = await startForwarderProcess(
        forwarderEnv(brokers, topic, `faults-${run}`, {
          GRAYBRIDGE_GELF_HOST: '127.0.0.1',
          GRAYBRIDGE_GELF_PORT: String(proxy.port),
        }),
      );
      const load = Load.start({ brokers, topic, run, pods: pods('shop', 2), ratePerPod: 250, recordsPerPod: 0 });
      cleanups.push(() => load.kill());
      let readyDuringFault: number | undefined;
      try {
        await until(() => checker.received() > 200, 30_000, 'delivering before the fault');
        if (fault === 'down') {
          await proxy.down();
          await sleep(scale.outageMillis);
          readyDuringFault = (await forwarder.readyz()).status;
          await proxy.up();
        } else if (fault === 'slow') {
          proxy.setMode({ kind: 'slow', millisPerWrite: 1000 });
          await sleep(scale.degradedMillis);
          proxy.setMode({ kind: 'pass' });
        } else {
          proxy.resetEvery(500);
          await sleep(scale.degradedMillis);
          proxy.stopResetting();
        }
        const ended = Date.now();
        const recoverySeconds = await secondsUntil(ended, () => lagIsZero(forwarder), 'lag back to 0');
        await load.terminate();
        const expected = load.expected();
        const total = load.total();
        // A shortfall is reported by the verdict below, with the records that are missing.
        await until(() => checker.unique() >= total, 60_000, `all ${total} records`).catch(() => undefined);
        await until(() => lagIsZero(forwarder), 20_000, 'lag 0 at the end');
        assert.equal(
          forwarder.logs.filter((l) => l.msg === 'kafka not ready').length,
          0,
          'stayed in its group throughout',
        );
        const verdict = checker.verdict(expected);
        // Duplicates come from two places: a batch retried after its connection broke mid-write,
        // and what the sink wrote again because its connection broke soon after (resend window).
        const cuts = fault === 'resetting' ? proxy.resets : 1;
        const resent = await forwarder.metric('graybridge_sink_resent_messages_total');
        const window = cuts * maxBatchRecords + resent;
        recordFault(t, {
          fault: what,
          verdict,
          window: { records: window, what: `${resent} resent after a break + a batch per cut (${cuts})` },
          recoverySeconds,
          notes: `${await forwarder.metric('graybridge_batches_held_total')} batches held, ${await forwarder.metric('graybridge_sink_retries_total')} sink retries`,
        });
        assert.equal(verdict.lost, 0, `lost: ${verdict.lostExamples.join(', ')}`);
        assert.equal(verdict.reproduced, 0);
        assert.ok(verdict.redelivered <= window, `${verdict.redelivered} redelivered, window ${window}`);
        if (fault === 'down') assert.equal(readyDuringFault, 503, 'not ready while the endpoint is down');
      } finally {
        await stopCleanly(forwarder);
      }
    });
  }

  it('Kafka broker restarted under the SDK and the forwarder', async (t) => {
    const broker = await RestartableKafka.reserve({ ownerPid: process.pid });
    cleanups.push(() => broker.destroy());
    await broker.start();
    const run = `broker-${randomUUID().slice(0, 8)}`;
    const topic = await createTopic(broker.brokers, 'faults-broker', 2);
    const checker = new LoadChecker(run);
    const endpoint = await tcpEndpoint(checker);
    const forwarder = await startForwarderProcess(
      forwarderEnv(broker.brokers, topic, `faults-${run}`, {
        GRAYBRIDGE_GELF_HOST: '127.0.0.1',
        GRAYBRIDGE_GELF_PORT: String(endpoint.ports.tcp ?? 0),
      }),
    );
    const load = Load.start({
      brokers: broker.brokers,
      topic,
      run,
      pods: pods('shop', 2),
      ratePerPod: 250,
      recordsPerPod: 0,
    });
    cleanups.push(() => load.kill());
    try {
      await until(() => checker.received() > 200, 30_000, 'delivering before the restart');
      await broker.stop();
      await sleep(2000);
      await broker.start();
      const restarted = Date.now();
      await until(() => load.reports().every((r) => r.stats.kafkaAvailable), 60_000, 'the SDK delivers again');
      const recoverySeconds = await secondsUntil(restarted, () => lagIsZero(forwarder), 'lag back to 0');
      const reports = await load.terminate();
      const expected = load.expected();
      const total = load.total();
      await until(() => checker.unique() >= total, 60_000, `all ${total} records`);
      const dropped = reports.reduce((sum, r) => sum + r.stats.droppedRecords.queue_full, 0);
      const verdict = checker.verdict(expected);
      recordFault(t, {
        fault: 'Kafka broker restart (clean stop, 2 s down)',
        verdict,
        window: { records: 0, what: 'the forwarder committed before the stop' },
        recoverySeconds,
        notes: `SDK: ${reports.reduce((sum, r) => sum + r.stats.sendErrors, 0)} send errors retried, ${dropped} dropped`,
      });
      assert.equal(dropped, 0);
      assert.equal(verdict.lost, 0, `lost: ${verdict.lostExamples.join(', ')}`);
    } finally {
      await stopCleanly(forwarder);
    }
  });

  it(
    `API server down ${scale.outageMillis / 1000} s: records keep flowing, enriched from the cache`,
    { timeout: scale.testTimeoutMillis },
    async (t) => {
      const brokers = [...(rig().kafka?.brokers ?? [])];
      const dir = mkdtempSync(join(tmpdir(), 'faults-kube-'));
      const kube = await startKube({ dir, ownerPid: process.pid });
      let processes: ServiceProcess[] = kube.processes;
      cleanups.push(async () => {
        await Promise.all(processes.map((p) => stopService(p.pid)));
        rmSync(dir, { recursive: true, force: true });
      });
      const workloads = await Promise.all(
        [0, 1].map(() => createDeploymentPod(kube.endpoint.kubeconfig, `faults-${randomUUID().slice(0, 8)}`)),
      );
      const run = `kube-${randomUUID().slice(0, 8)}`;
      const topic = await createTopic(brokers, 'faults-kube', 2);
      const checker = new LoadChecker(run);
      const endpoint = await tcpEndpoint(checker);
      const forwarder = await startForwarderProcess(
        forwarderEnv(brokers, topic, `faults-${run}`, {
          GRAYBRIDGE_GELF_HOST: '127.0.0.1',
          GRAYBRIDGE_GELF_PORT: String(endpoint.ports.tcp ?? 0),
          GRAYBRIDGE_KUBERNETES_ENABLED: 'true',
          GRAYBRIDGE_KUBERNETES_KUBECONFIG: kube.endpoint.kubeconfig,
        }),
      );
      const load = Load.start({
        brokers,
        topic,
        run,
        pods: workloads.map((w) => ({ name: w.pod, namespace: w.namespace, node: w.node })),
        ratePerPod: 250,
        recordsPerPod: 0,
      });
      cleanups.push(() => load.kill());
      try {
        await until(() => checker.received() > 200, 30_000, 'delivering before the outage');
        const apiserver = processes.find((p) => p.name === 'kube-apiserver');
        assert.ok(apiserver);
        await stopService(apiserver.pid);
        const before = checker.received();
        await sleep(scale.outageMillis);
        const duringOutage = checker.received() - before;
        assert.ok(duringOutage > 0, 'records flowed while the API server was down');
        processes = [...processes.filter((p) => p !== apiserver), await startApiserver(kube.apiserver)];
        const reports = await load.terminate();
        const expected = load.expected();
        const total = load.total();
        const back = Date.now();
        const recoverySeconds = await secondsUntil(back, () => checker.unique() >= total, `all ${total} records`);
        const unenriched = checker.messages().filter((m) => m.fields.k8s_owner_name !== 'checkout').length;
        const verdict = checker.verdict(expected);
        recordFault(t, {
          fault: `API server down ${scale.outageMillis / 1000} s`,
          verdict,
          window: { records: 0, what: 'no forwarder restart' },
          recoverySeconds,
          notes: `${duringOutage} records delivered during the outage, ${unenriched} without metadata; SDK dropped ${reports.reduce((s, r) => s + r.stats.droppedRecords.queue_full, 0)}`,
        });
        assert.equal(verdict.lost, 0, `lost: ${verdict.lostExamples.join(', ')}`);
        assert.equal(verdict.redelivered + verdict.reproduced, 0);
        assert.equal(unenriched, 0, 'every record carried its pod’s metadata, from the cache during the outage');
      } finally {
        await stopCleanly(forwarder);
      }
    },
  );

  it(
    `Redis down ${scale.outageMillis / 1000} s while records are being dead-lettered: the stream holds, none lost`,
    { timeout: scale.testTimeoutMillis },
    async (t) => {
      const brokers = [...(rig().kafka?.brokers ?? [])];
      const redisDir = mkdtempSync(join(tmpdir(), 'faults-redis-'));
      const redisPort = await freePort();
      let redis = await startRedis({ dir: redisDir, port: redisPort, persistent: true, ownerPid: process.pid });
      cleanups.push(async () => {
        await stopService(redis.process.pid);
        rmSync(redisDir, { recursive: true, force: true });
      });
      const run = `redis-${randomUUID().slice(0, 8)}`;
      const topic = await createTopic(brokers, 'faults-redis', 2);
      const checker = new LoadChecker(run);
      // One message per request; bodies over 2,000 bytes are refused (413), so every 25th record
      // (5,000 bytes of stack) is dead-lettered as sink_rejected.
      const endpoint = await startGelfReceiver({
        host: '127.0.0.1',
        http: { port: 0, maxBodyBytes: 2000 },
        onMessage: checker.accept,
      });
      cleanups.push(() => endpoint.close());
      const env = forwarderEnv(brokers, topic, `faults-${run}`, {
        GRAYBRIDGE_GELF_TRANSPORT: 'http',
        GRAYBRIDGE_GELF_URL: `http://127.0.0.1:${endpoint.ports.http ?? 0}/gelf`,
        GRAYBRIDGE_REDIS_URL: redis.endpoint.url,
        GRAYBRIDGE_DEAD_LETTERS_QUEUE: `faults-${run}`,
      });
      const forwarder = await startForwarderProcess(env);
      const load = Load.start({
        brokers,
        topic,
        run,
        pods: pods('shop', 2),
        ratePerPod: 100,
        recordsPerPod: 0,
        poisonEvery: 25,
      });
      cleanups.push(() => load.kill());
      const deadLettered = (): Promise<number> =>
        forwarder.metric('graybridge_records_dead_lettered_total', { reason: 'sink_rejected' });
      try {
        await until(async () => (await deadLettered()) > 2, 30_000, 'dead letters before the outage');
        await stopService(redis.process.pid);
        await until(async () => (await forwarder.readyz()).body.checks.deadletters?.ok === false, 15_000, 'not ready');
        const lettersBefore = await deadLettered();
        await sleep(scale.outageMillis);
        assert.equal(await deadLettered(), lettersBefore, 'no dead letter counted while Redis is down');
        redis = await startRedis({ dir: redisDir, port: redisPort, persistent: true, ownerPid: process.pid });
        const back = Date.now();
        const recoverySeconds = await secondsUntil(back, () => lagIsZero(forwarder), 'lag back to 0');
        await load.terminate();
        const expected = load.expected();
        const total = load.total();
        const poisoned = [...expected.values()].reduce((sum, n) => sum + Math.floor(n / 25), 0);
        await until(() => checker.unique() >= total - poisoned, 60_000, `all ${total - poisoned} deliverable records`);
        await until(() => lagIsZero(forwarder), 20_000, 'lag 0 at the end');
        const listed = await runGraybridge(['dlq', 'list', '--json'], env);
        assert.equal(listed.code, 0, listed.stderr);
        for (const line of listed.stdout.trim().split('\n').filter(Boolean)) {
          const { letter } = JSON.parse(line) as { letter: { value: string } };
          checker.acceptDeadLetter(Buffer.from(letter.value, 'base64'));
        }
        const verdict = checker.verdict(expected);
        recordFault(t, {
          fault: `Redis down ${scale.outageMillis / 1000} s (dead letters pause)`,
          verdict,
          window: { records: 0, what: 'no forwarder restart' },
          recoverySeconds,
          notes: `${await deadLettered()} dead letters stored, ${await forwarder.metric('graybridge_dead_letter_retries_total')} dead-letter writes retried`,
        });
        assert.equal(verdict.lost, 0, `lost: ${verdict.lostExamples.join(', ')}`);
        assert.equal(verdict.deadLettered, poisoned);
        assert.equal(verdict.redelivered + verdict.reproduced, 0);
      } finally {
        await stopCleanly(forwarder);
      }
    },
  );
});
