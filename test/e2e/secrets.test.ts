// Secrets never show: every line a run writes — `graybridge config`, `doctor`, `forward` refused
// by the broker and working, an app whose SDK cannot authenticate — is scanned for the password,
// the GELF Authorization header and the Redis password it was given.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { useRig } from '@graybridge/rig';
import { startGelfReceiver } from '@graybridge/forwarder/sinks';
import { inheritedEnv, runGraybridge, startForwarderProcess, type ForwarderProcess } from '../fixtures/processes.js';

const rig = useRig(['kafka-secure', 'redis']);

/** Runs an app logging through the SDK with SASL credentials; resolves with all it wrote. */
function sdkApp(env: Readonly<Record<string, string>>): Promise<string> {
  const script = `
import { createLogger } from '@graybridge/log-sdk';
const logger = createLogger({
  kafka: {
    topic: 'secrets',
    tls: { caFile: process.env.CA_FILE },
    sasl: { mechanism: 'scram-sha-512', username: process.env.SASL_USER },
    connectionTimeoutMillis: 1000,
  },
  warnIntervalMillis: 100,
  shutdownTimeoutMillis: 1000,
  handleSignals: false,
});
for (let i = 0; i < 20; i += 1) logger.info({ i }, 'hello');
await new Promise((resolve) => setTimeout(resolve, 3000));
await logger.close();
`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...inheritedEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(output));
  });
}

describe('secrets in output', () => {
  it('no command, log line or SDK warning of a run carries a password, token or Authorization value', async () => {
    const secure = rig().kafkaSecure?.secure;
    const redis = rig().redis;
    assert.ok(secure && redis);
    const authorization = `Bearer gelf-${randomUUID()}`;
    const redisPassword = `redis-${randomUUID()}`;
    const wrongPassword = `wrong-${randomUUID()}`;
    const receiver = await startGelfReceiver({ host: '127.0.0.1', http: { port: 0 }, onMessage: () => undefined });
    const env = (password: string): Record<string, string> => ({
      GRAYBRIDGE_KAFKA_BROKERS: secure.brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPICS: 'secrets',
      GRAYBRIDGE_KAFKA_GROUP_ID: `secrets-${randomUUID().slice(0, 8)}`,
      GRAYBRIDGE_KAFKA_TLS_ENABLED: 'true',
      GRAYBRIDGE_KAFKA_TLS_CA_FILE: secure.caFile,
      GRAYBRIDGE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      GRAYBRIDGE_KAFKA_SASL_USERNAME: secure.username,
      GRAYBRIDGE_KAFKA_SASL_PASSWORD: password,
      GRAYBRIDGE_GELF_TRANSPORT: 'http',
      GRAYBRIDGE_GELF_URL: `http://127.0.0.1:${receiver.ports.http ?? 0}/gelf`,
      GRAYBRIDGE_GELF_HTTP_AUTHORIZATION: authorization,
      // Redis has no password here: AUTH fails, and the failure must not quote it.
      GRAYBRIDGE_REDIS_URL: `redis://:${redisPassword}@${redis.host}:${redis.port}`,
      GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
      GRAYBRIDGE_OPS_HOST: '127.0.0.1',
    });
    const outputs: { what: string; text: string }[] = [];
    try {
      for (const [what, args, password] of [
        ['config', ['config'], secure.password],
        ['doctor', ['doctor'], secure.password],
        ['doctor, wrong password', ['doctor'], wrongPassword],
      ] as const) {
        const run = await runGraybridge(args, env(password));
        outputs.push({ what, text: run.stdout + run.stderr });
      }
      for (const [what, password] of [
        ['forward', secure.password],
        ['forward, wrong password', wrongPassword],
      ] as const) {
        let running: ForwarderProcess;
        try {
          running = await startForwarderProcess(env(password));
        } catch (error) {
          outputs.push({ what, text: String(error) }); // refused at start: what it said
          continue;
        }
        await sleep(3000);
        const readyz = JSON.stringify((await running.readyz()).body);
        await running.stop();
        outputs.push({ what, text: running.logs.map((l) => JSON.stringify(l)).join('\n') + running.stderr() + readyz });
      }
      outputs.push({
        what: 'SDK app, wrong password',
        text: await sdkApp({
          GRAYBRIDGE_KAFKA_BROKERS: secure.brokers.join(','),
          CA_FILE: secure.caFile,
          SASL_USER: secure.username,
          GRAYBRIDGE_KAFKA_SASL_PASSWORD: wrongPassword,
        }),
      });
    } finally {
      await receiver.close();
    }
    // The runs did say something: the scan is over real output.
    assert.match(outputs.find((o) => o.what === 'config')?.text ?? '', /password/);
    assert.match(outputs.find((o) => o.what === 'SDK app, wrong password')?.text ?? '', /SASL|authentication/i);
    for (const { what, text } of outputs) {
      for (const secret of [secure.password, wrongPassword, authorization, redisPassword]) {
        assert.ok(!text.includes(secret), `${what} printed a secret (${secret.slice(0, 6)}…):\n${text.slice(0, 3000)}`);
      }
    }
  });
});
