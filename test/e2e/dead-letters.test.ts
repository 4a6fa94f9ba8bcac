// Dead letters through the real forwarder, Kafka and Redis: what Graylog refuses is stored with
// its reason before its offset is committed, a Redis outage holds the stream instead of losing
// it, and `graybridge dlq replay` delivers the letters once the endpoint takes them.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startRedis, stopService, useRig } from '@graybridge/rig';
import { Kafka, logLevel } from 'kafkajs';
import { startGelfReceiver, type GelfReceiver, type ReceivedMessage } from '@graybridge/forwarder/sinks';
import { committedOffsets, createTopic, sdkRecord } from '../fixtures/kafka.js';
import { runGraybridge, startForwarderProcess, until } from '../fixtures/processes.js';

const rig = useRig(['kafka']);

/** Every 11th record is ~5 KB: above the endpoint's 2,000-byte body limit, so it answers 413. */
function records(from: number, count: number): { key: string; value: string; headers: Record<string, string> }[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    const base = sdkRecord(seq);
    if (seq % 11 !== 10) return base;
    const value = JSON.parse(base.value) as Record<string, unknown>;
    return { ...base, value: JSON.stringify({ ...value, stack: 's'.repeat(5000) }) };
  });
}

describe('dead letters through graybridge forward', () => {
  it('refused messages are dead-lettered before commit, a Redis outage holds, dlq replay delivers them', async () => {
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const topic = await createTopic(brokers, 'e2e-dlq', 2);
    const redisDir = mkdtempSync(join(tmpdir(), 'e2e-dlq-redis-'));
    const redisPort = await freePort();
    let redis = await startRedis({ dir: redisDir, port: redisPort, persistent: true });
    const gelfPort = await freePort();
    const received: ReceivedMessage[] = [];
    const startEndpoint = (maxBodyBytes: number): Promise<GelfReceiver> =>
      startGelfReceiver({
        host: '127.0.0.1',
        http: { port: gelfPort, maxBodyBytes },
        onMessage: (m) => received.push(m),
      });
    let endpoint = await startEndpoint(2000);
    const env = {
      GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPICS: topic,
      GRAYBRIDGE_KAFKA_GROUP_ID: `e2e-dlq-${Date.now()}`,
      GRAYBRIDGE_GELF_TRANSPORT: 'http',
      GRAYBRIDGE_GELF_URL: `http://127.0.0.1:${gelfPort}/gelf`,
      GRAYBRIDGE_REDIS_URL: redis.endpoint.url,
      GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
      GRAYBRIDGE_OPS_LAG_INTERVAL_MILLIS: '300',
    };
    const forwarder = await startForwarderProcess(env);
    const producer = new Kafka({ clientId: 'e2e-dlq', brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const lag = () => forwarder.metric('graybridge_consumer_lag_records');
    const deadLettered = () => forwarder.metric('graybridge_records_dead_lettered_total', { reason: 'sink_rejected' });
    try {
      // 110 records, 10 of them too large for the endpoint.
      await producer.send({ topic, messages: records(0, 110) });
      await until(
        async () => (await deadLettered()) === 10 && (await lag()) === 0,
        30_000,
        '10 dead letters, all committed',
      );
      assert.equal(new Set(received.map((m) => m.message.fields.event_id)).size, 100);
      const listed = await runGraybridge(['dlq', 'list', '--reason', 'sink_rejected', '--json'], env);
      assert.equal(listed.code, 0, listed.stderr);
      const letters = listed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: string; letter: { reason: string; error: string; value: string } });
      assert.equal(letters.length, 10);
      for (const { letter } of letters) {
        assert.equal(letter.reason, 'sink_rejected');
        assert.match(letter.error, new RegExp(`^http://127\\.0\\.0\\.1:${gelfPort}/gelf: answered 413$`));
        assert.match(Buffer.from(letter.value, 'base64').toString(), /"stack":"s{5000}"/, 'the original bytes');
      }

      // Redis goes away while dead letters occur: the batch is held, nothing committed past them.
      await stopService(redis.process.pid);
      await producer.send({ topic, messages: records(110, 22) });
      await until(async () => (await forwarder.readyz()).body.checks.deadletters?.ok === false, 15_000, 'not ready');
      const heldAt = await committedOffsets(brokers, env.GRAYBRIDGE_KAFKA_GROUP_ID, topic);
      await until(async () => (await forwarder.metric('graybridge_dead_letter_retries_total')) >= 2, 15_000, 'retried');
      assert.deepEqual(
        await committedOffsets(brokers, env.GRAYBRIDGE_KAFKA_GROUP_ID, topic),
        heldAt,
        'nothing committed while the dead letters cannot be stored',
      );
      assert.ok((await lag()) > 0);
      assert.ok((await forwarder.metric('graybridge_dead_letter_retries_total')) > 0);
      redis = await startRedis({ dir: redisDir, port: redisPort, persistent: true });
      await until(async () => (await lag()) === 0, 30_000, 'committed once Redis is back');
      assert.equal(await deadLettered(), 12);
      assert.equal(
        new Set(received.map((m) => m.message.fields.event_id)).size,
        120,
        'every deliverable record arrived',
      );

      // The endpoint's limit is raised: replay delivers every dead letter and empties the queue.
      await endpoint.close();
      endpoint = await startEndpoint(100_000);
      const replayed = await runGraybridge(['dlq', 'replay'], env);
      assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
      assert.match(replayed.stdout, /replayed 12: 12 delivered, 0 back in the queue/);
      assert.match(replayed.stderr, /100% 12\/12/);
      assert.equal(
        new Set(received.map((m) => m.message.fields.event_id)).size,
        132,
        'all 132, each with its original _event_id',
      );
      const empty = await runGraybridge(['dlq', 'list'], env);
      assert.match(empty.stdout, /^0 dead letter\(s\) in redis:\/\/127\.0\.0\.1:\d+\/graybridge-dead-letters/);
    } finally {
      await producer.disconnect();
      await forwarder.stop();
      await endpoint.close();
      await stopService(redis.process.pid);
    }
  });

  it('bad dlq input is refused with the option named and a non-zero exit', async () => {
    const env = {
      GRAYBRIDGE_KAFKA_BROKERS: 'k:9092',
      GRAYBRIDGE_GELF_HOST: 'g',
      GRAYBRIDGE_REDIS_URL: 'redis://127.0.0.1:1',
    };
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['dlq', 'list', '--reason', 'lost'],
        env,
        /invalid option --reason: expected too_large, sink_rejected, decode_error, got "lost"/,
      ],
      [
        ['dlq', 'list', '--since', '1h', '--until', '2h'],
        env,
        /invalid option --since\/--until: expected a time range whose start is before its end/,
      ],
      [
        ['dlq', 'list', '--since', 'yesterday-ish'],
        env,
        /invalid option --since: expected an ISO 8601 time or an age like 30m, 6h, 7d, got "yesterday-ish"/,
      ],
      [
        ['dlq', 'replay'],
        { GRAYBRIDGE_KAFKA_BROKERS: 'k:9092', GRAYBRIDGE_GELF_HOST: 'g' },
        /missing option redis\.url/,
      ],
      [['dlq', 'explode'], env, /usage: graybridge dlq/],
    ];
    for (const [args, given, expected] of cases) {
      const result = await runGraybridge(args, given);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
    }
  });
});
