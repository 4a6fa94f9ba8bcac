import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { useRig } from '@graybridge/rig';

const execFileAsync = promisify(execFile);
const rig = useRig(['kafka', 'kafka-secure', 'kcat']);

const recordCount = 1000;
const keyCount = 10;

describe('Kafka smoke (real KRaft broker from Maven jars)', () => {
  it('kafkajs produces 1,000 keyed records and consumes them back in order per key; kcat reads them too', async () => {
    const { kafka: endpoint, kcat } = rig();
    assert.ok(endpoint && kcat);
    const kafka = new Kafka({ clientId: 'smoke', brokers: [...endpoint.brokers], logLevel: logLevel.WARN });
    const topic = `smoke-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true }), true);
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    for (let start = 0; start < recordCount; start += 100) {
      const messages = Array.from({ length: 100 }, (_, n) => {
        const seq = start + n;
        return { key: `key-${seq % keyCount}`, value: JSON.stringify({ seq }) };
      });
      await producer.send({ topic, messages });
    }
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `smoke-${randomUUID()}` });
    const seen = new Map<string, number[]>();
    let received = 0;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received} of ${recordCount} consumed`)), 60_000);
      consumer
        .run({
          eachMessage: ({ message }) => {
            const key = message.key?.toString() ?? '';
            const { seq } = JSON.parse(message.value?.toString() ?? '{}') as { seq: number };
            seen.set(key, [...(seen.get(key) ?? []), seq]);
            received += 1;
            if (received === recordCount) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    assert.equal(received, recordCount);
    assert.equal(seen.size, keyCount);
    for (const [key, seqs] of seen) {
      const expected = Array.from({ length: recordCount / keyCount }, (_, n) => n * keyCount + Number(key.slice(4)));
      assert.deepEqual(seqs, expected, `records of ${key} arrive in the order they were produced`);
    }

    const { stdout } = await execFileAsync(
      kcat.binary,
      ['-C', '-b', endpoint.brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n'],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, recordCount);
    const kcatSeqs = lines
      .map((line) => (JSON.parse(line.split('\t')[1] ?? '') as { seq: number }).seq)
      .sort((a, b) => a - b);
    assert.deepEqual(
      kcatSeqs,
      Array.from({ length: recordCount }, (_, n) => n),
    );
  });

  it('the TLS + SASL broker accepts SCRAM-SHA-512 with the right CA and password, and refuses a wrong password', async () => {
    const secure = rig().kafkaSecure?.secure;
    assert.ok(secure);
    const client = (sasl: SASLOptions) =>
      new Kafka({
        clientId: 'smoke-secure',
        brokers: [...secure.brokers],
        ssl: { ca: [readFileSync(secure.caFile, 'utf8')] },
        sasl,
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      }).admin();

    const good = client({ mechanism: 'scram-sha-512', username: secure.username, password: secure.password });
    await good.connect();
    const cluster = await good.describeCluster();
    assert.equal(cluster.brokers.length, 1);
    await good.disconnect();

    const bad = client({ mechanism: 'scram-sha-512', username: secure.username, password: 'wrong' });
    await assert.rejects(bad.connect(), (error: Error) => {
      assert.equal(error.name, 'KafkaJSSASLAuthenticationError');
      return true;
    });
  });
});
