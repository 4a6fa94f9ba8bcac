// Replay jobs on the real rig (Kafka + Redis): a time window shipped again through the forwarder's
// pipeline with _replay_job, followed to 100 % by the CLI; a cancelled job stops promptly; bad
// input is refused.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
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
});
