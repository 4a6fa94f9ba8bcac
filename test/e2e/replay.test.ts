// Replay jobs on the real rig (Kafka + Redis): a time window shipped again through the forwarder's
// pipeline with _replay_job, followed to 100 % by the CLI; a cancelled job stops promptly; bad
// input is refused.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { useRig } from '@graybridge/rig';
import { Kafka, logLevel } from 'kafkajs';
import { startCountingReceiver } from '../fixtures/gelf.js';
import { createTopic } from '../fixtures/kafka.js';
import { runGraybridge, startForwarderProcess, until } from '../fixtures/processes.js';

const rig = useRig(['kafka', 'redis']);
const hour = 3_600_000;

describe('graybridge replay', () => {
  it('ships exactly the records of a time window again, with _replay_job; cancel stops a job; bad input refused', async () => {
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const topic = await createTopic(brokers, 'e2e-replay', 2);
    const base = Date.now() - 3 * hour;
    const producer = new Kafka({ clientId: 'e2e-replay', brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    // Three windows an hour apart, 200 records each, with the record's own Kafka timestamp.
    for (const window of [0, 1, 2]) {
      await producer.send({
        topic,
        messages: Array.from({ length: 200 }, (_, i) => ({
          key: `shop/web-${i % 3}`,
          value: JSON.stringify({ level: 30, window, seq: i, msg: `window ${window} record ${i}` }),
          timestamp: String(base + window * hour + i),
        })),
      });
    }
    await producer.disconnect();
    const gelf = await startCountingReceiver('tcp');
    const env = {
      GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPICS: topic,
      GRAYBRIDGE_KAFKA_GROUP_ID: `e2e-replay-${randomUUID().slice(0, 8)}`,
      GRAYBRIDGE_GELF_HOST: '127.0.0.1',
      GRAYBRIDGE_GELF_PORT: String(gelf.receiver.ports.tcp ?? 0),
      GRAYBRIDGE_REDIS_URL: rig().redis?.url ?? '',
      GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
      GRAYBRIDGE_GELF_BREAKER_COOLDOWN_MILLIS: '500',
    };
    const forwarder = await startForwarderProcess(env);
    try {
      await until(() => gelf.unique() === 600, 30_000, 'the live stream');
      const windowIds = new Set(
        gelf.messages.filter((m) => m.message.fields.window === 1).map((m) => String(m.message.fields.event_id)),
      );
      assert.equal(windowIds.size, 200);
      const since = new Date(base + hour - 1000).toISOString();
      const untilTime = new Date(base + hour + 60_000).toISOString();

      const dry = await runGraybridge(
        ['replay', '--topic', topic, '--since', since, '--until', untilTime, '--dry-run'],
        env,
      );
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /would replay .*: 200 records/);

      const replayed = await runGraybridge(['replay', '--topic', topic, '--since', since, '--until', untilTime], env);
      assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
      const jobId = /replay (\S+) queued/.exec(replayed.stdout)?.[1] ?? '';
      assert.match(replayed.stdout, new RegExp(`replay ${jobId} done: 200 records read, 200 sent, 0 outside`));
      assert.match(replayed.stderr, /100% 200\/200/);
      await until(
        () => gelf.messages.filter((m) => m.message.fields.replay_job === jobId).length === 200,
        10_000,
        'replayed',
      );
      const replayedIds = new Set(
        gelf.messages
          .filter((m) => m.message.fields.replay_job === jobId)
          .map((m) => String(m.message.fields.event_id)),
      );
      assert.deepEqual(
        [...replayedIds].sort(),
        [...windowIds].sort(),
        'exactly the window, with the original _event_id',
      );

      // The endpoint goes away: a job over everything holds; cancelling it stops it promptly.
      await gelf.close();
      const held = await runGraybridge(
        ['replay', '--topic', topic, '--since', new Date(base - hour).toISOString(), '--detach'],
        env,
      );
      const heldId = /replay (\S+) queued/.exec(held.stdout)?.[1] ?? '';
      await until(
        async () => (await runGraybridge(['replay', 'status', heldId], env)).stdout.includes('"active"'),
        20_000,
        'active',
      );
      const cancelledAt = Date.now();
      assert.equal((await runGraybridge(['replay', 'cancel', heldId], env)).code, 0);
      await until(
        async () =>
          (await runGraybridge(['replay', 'status', heldId], env)).stdout.includes('"failedReason":"cancelled"'),
        20_000,
        'cancelled',
      );
      assert.ok(Date.now() - cancelledAt < 15_000, 'stopped promptly');

      for (const [args, expected] of [
        [
          ['replay', '--topic', 'no-such-topic', '--since', '1h'],
          /invalid option --topic: expected a topic that exists/,
        ],
        [['replay', '--topic', topic, '--since', '1h', '--until', '2h'], /invalid option --since\/--until/],
        [['replay', '--topic', topic], /invalid option --since/],
      ] as const) {
        const result = await runGraybridge(args, env);
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, expected);
      }
    } finally {
      await forwarder.stop();
      await gelf.close().catch(() => undefined);
    }
  });

  it('a job survives the SIGKILL of the forwarder running it: another resumes from its checkpoint', async () => {
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const topic = await createTopic(brokers, 'e2e-replay-resume', 2);
    const idle = await createTopic(brokers, 'e2e-replay-idle', 1);
    const base = Date.now() - hour;
    const total = 30_000;
    const producer = new Kafka({ clientId: 'e2e-replay', brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    for (let from = 0; from < total; from += 2000) {
      await producer.send({
        topic,
        messages: Array.from({ length: 2000 }, (_, i) => ({
          value: JSON.stringify({ level: 30, seq: from + i, msg: `record ${from + i}`, pad: 'p'.repeat(300) }),
          timestamp: String(base + from + i),
        })),
      });
    }
    await producer.disconnect();
    // A slow Graylog: reads a little every 100 ms, so the job takes a while.
    const seen = new Map<string, number>();
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        const frames = (pending + chunk.toString()).split('\0');
        pending = frames.pop() ?? '';
        for (const frame of frames) {
          const id = /"_event_id":"([^"]+)"/.exec(frame)?.[1];
          if (id !== undefined && frame.includes('"_replay_job"')) seen.set(id, (seen.get(id) ?? 0) + 1);
        }
        socket.pause();
        setTimeout(() => socket.resume(), 100);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const env = {
      GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPICS: idle, // no live traffic: only the replay writes to the endpoint
      GRAYBRIDGE_KAFKA_GROUP_ID: `e2e-replay-resume-${randomUUID().slice(0, 8)}`,
      GRAYBRIDGE_GELF_HOST: '127.0.0.1',
      GRAYBRIDGE_GELF_PORT: String((server.address() as { port: number }).port),
      GRAYBRIDGE_REDIS_URL: rig().redis?.url ?? '',
      GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
      GRAYBRIDGE_REPLAY_LOCK_MILLIS: '3000',
    };
    const first = await startForwarderProcess(env);
    let second: Awaited<ReturnType<typeof startForwarderProcess>> | undefined;
    try {
      const queued = await runGraybridge(
        ['replay', '--topic', topic, '--since', new Date(base - 1000).toISOString(), '--detach'],
        env,
      );
      const jobId = /replay (\S+) queued/.exec(queued.stdout)?.[1] ?? '';
      const progress = async (): Promise<{ state: string; progress?: { done: number; total: number } }> =>
        JSON.parse((await runGraybridge(['replay', 'status', jobId], env)).stdout) as {
          state: string;
          progress?: { done: number; total: number };
        };
      await until(async () => ((await progress()).progress?.done ?? 0) >= 1000, 60_000, 'a checkpoint past 1000');
      const atKill = (await progress()).progress?.done ?? 0;
      assert.ok(atKill < total, `killed mid-job (${atKill} of ${total} done)`);
      await first.stop('SIGKILL');
      second = await startForwarderProcess(env);
      await until(
        async () => (await progress()).state === 'completed',
        120_000,
        'the job completed by the second forwarder',
      );
      // The slow endpoint is still reading what the kernel buffered for it.
      await until(() => seen.size === total, 60_000, `every record of the window (${seen.size} so far)`).catch(
        (error: unknown) => {
          throw new Error(`${String(error)}; ${seen.size} of ${total} seen`);
        },
      );
      const duplicates = [...seen.values()].filter((times) => times > 1).length;
      assert.ok(duplicates <= 500, `duplicates only from the chunk in hand at the kill: ${duplicates}`);
      assert.equal((await progress()).progress?.done, total);
    } finally {
      await second?.stop();
      await first.stop();
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});
