import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LogSdkError } from '../src/errors.js';
import {
  defaults,
  resolveTransportConfig,
  validateLoggerOptions,
  zstdAvailable,
  type LoggerOptions,
} from '../src/options.js';

const extra = { defaultKey: 'ns/pod', identityJson: null };
const kafka = { brokers: ['127.0.0.1:9092'] };

function rejects(options: unknown, message: string, env: Record<string, string> = {}): void {
  assert.throws(
    () => resolveTransportConfig(validateLoggerOptions(options), extra, env),
    (error: unknown) => {
      assert.ok(error instanceof LogSdkError, String(error));
      assert.equal(error.message, message);
      assert.equal(error.retriable, false);
      return true;
    },
  );
}

describe('resolveTransportConfig', () => {
  it('applies the documented defaults', () => {
    const config = resolveTransportConfig({ kafka }, extra, {});
    assert.deepEqual(config, {
      brokers: ['127.0.0.1:9092'],
      topic: defaults.topic,
      clientId: defaults.clientId,
      key: 'ns/pod',
      compression: 'gzip',
      acks: -1,
      idempotent: false,
      tls: false,
      sasl: null,
      connectionTimeoutMillis: 3000,
      requestTimeoutMillis: 30_000,
      maxRecordBytes: 1_000_000,
      batch: { maxRecords: 10_000, maxBytes: 1_048_576, lingerMillis: 20 },
      buffer: { maxRecords: 50_000, maxBytes: 67_108_864, dropPolicy: 'drop-newest' },
      mirrorToStdoutWhenUnavailable: true,
      warnIntervalMillis: 30_000,
      shutdownTimeoutMillis: 5000,
      identityJson: null,
      redactSecrets: true,
    });
  });

  it('takes brokers, topic and the SASL password from env', () => {
    const config = resolveTransportConfig({ kafka: { sasl: { mechanism: 'scram-sha-512', username: 'u' } } }, extra, {
      GRAYBRIDGE_KAFKA_BROKERS: 'a:1, b:2',
      GRAYBRIDGE_KAFKA_TOPIC: 'app-logs',
      GRAYBRIDGE_KAFKA_SASL_PASSWORD: 'pw',
    });
    assert.deepEqual(config.brokers, ['a:1', 'b:2']);
    assert.equal(config.topic, 'app-logs');
    assert.deepEqual(config.sasl, { mechanism: 'scram-sha-512', username: 'u', password: 'pw' });
  });

  it('reads TLS material and the password from files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdk-options-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    writeFileSync(join(dir, 'password'), 'secret\n');
    const config = resolveTransportConfig(
      {
        kafka: {
          ...kafka,
          tls: { caFile: join(dir, 'ca.pem'), servername: 'kafka.local' },
          sasl: { mechanism: 'plain', username: 'u', passwordFile: join(dir, 'password') },
        },
      },
      extra,
      {},
    );
    assert.deepEqual(config.tls, { rejectUnauthorized: true, ca: 'CA PEM', servername: 'kafka.local' });
    assert.equal(config.sasl?.password, 'secret');
  });

  it('rejects each bad option with its name, the expectation and the value given', () => {
    const cases: [unknown, string][] = [
      [
        {},
        'invalid option kafka.brokers: expected a non-empty list of "host:port" (or env GRAYBRIDGE_KAFKA_BROKERS), got undefined',
      ],
      [
        { kafka: { brokers: [] } },
        'invalid option kafka.brokers: expected a non-empty list of "host:port" (or env GRAYBRIDGE_KAFKA_BROKERS), got an array',
      ],
      [{ kafka: { brokers: ['nohost'] } }, 'invalid option kafka.brokers[0]: expected "host:port", got "nohost"'],
      [{ kafka: { ...kafka, topic: '' } }, 'invalid option kafka.topic: expected a non-empty string, got ""'],
      [
        { kafka: { ...kafka, compression: 'brotli' } },
        'invalid option kafka.compression: expected one of "none", "gzip", "snappy", "lz4", "zstd", got "brotli"',
      ],
      [{ kafka: { ...kafka, acks: 2 } }, 'invalid option kafka.acks: expected one of -1, 0, 1, got 2'],
      [
        { kafka: { ...kafka, idempotent: 'yes' } },
        'invalid option kafka.idempotent: expected true or false, got "yes"',
      ],
      [{ kafka: { ...kafka, tls: 'on' } }, 'invalid option kafka.tls: expected an object, got "on"'],
      [
        { kafka: { ...kafka, tls: { ca: 'x', caFile: '/x' } } },
        'invalid option kafka.tls.caFile: expected only one of kafka.tls.ca and kafka.tls.caFile, got "/x"',
      ],
      [
        { kafka: { ...kafka, tls: { cert: 'x' } } },
        'invalid option kafka.tls.key: expected a client key and certificate together, got "a certificate only"',
      ],
      [
        { kafka: { ...kafka, sasl: { username: 'u', password: 'p' } } },
        'invalid option kafka.sasl.mechanism: expected "plain", "scram-sha-256" or "scram-sha-512", got undefined',
      ],
      [
        { kafka: { ...kafka, sasl: { mechanism: 'gssapi', username: 'u' } } },
        'invalid option kafka.sasl.mechanism: expected one of "plain", "scram-sha-256", "scram-sha-512", got "gssapi"',
      ],
      [
        { kafka: { ...kafka, sasl: { mechanism: 'plain', username: 'u' } } },
        'invalid option kafka.sasl.password: expected a password (option, passwordFile or env GRAYBRIDGE_KAFKA_SASL_PASSWORD), got undefined',
      ],
      [{ kafka, batch: { maxRecords: 0 } }, 'invalid option batch.maxRecords: expected an integer ≥ 1, got 0'],
      [{ kafka, batch: { lingerMillis: 1.5 } }, 'invalid option batch.lingerMillis: expected an integer ≥ 0, got 1.5'],
      [
        { kafka, buffer: { maxBytes: '64MiB' } },
        'invalid option buffer.maxBytes: expected an integer ≥ 1024, got "64MiB"',
      ],
      [
        { kafka, buffer: { dropPolicy: 'drop-random' } },
        'invalid option buffer.dropPolicy: expected one of "drop-newest", "drop-oldest", got "drop-random"',
      ],
      [
        { kafka: { ...kafka, maxRecordBytes: 2048 }, buffer: { maxBytes: 1024 } },
        'invalid option kafka.maxRecordBytes: expected at most buffer.maxBytes (1024), got 2048',
      ],
      [{ kafka, shutdownTimeoutMillis: -1 }, 'invalid option shutdownTimeoutMillis: expected an integer ≥ 0, got -1'],
      [{ kafka, handleSignals: 1 }, 'invalid option handleSignals: expected true or false, got 1'],
      [{ kafka, service: 42 }, 'invalid option service: expected a non-empty string, got 42'],
      [
        { kafka, pino: { transport: { target: 'pino-pretty' } } },
        "invalid option pino.transport: expected nothing: the Kafka transport is graybridge's, got an object",
      ],
      ['brokers', 'invalid option options: expected an object, got "brokers"'],
    ];
    for (const [options, message] of cases) rejects(options, message);
  });

  it('never echoes a password in an error', () => {
    for (const sasl of [
      { mechanism: 'plain', username: 'u', password: 'hunter2', passwordFile: '/run/secrets/pw' },
      { mechanism: 'kerberos', username: 'u', password: 'hunter2' },
      { mechanism: 'plain', username: '', password: 'hunter2' },
    ]) {
      assert.throws(
        () => resolveTransportConfig({ kafka: { ...kafka, sasl } } as LoggerOptions, extra, {}),
        (error: unknown) => error instanceof LogSdkError && !error.message.includes('hunter2'),
      );
    }
    rejects(
      {
        kafka: {
          ...kafka,
          sasl: { mechanism: 'plain', username: 'u', password: 'hunter2', passwordFile: '/run/secrets/pw' },
        },
      },
      'invalid option kafka.sasl.passwordFile: expected only one of kafka.sasl.password and kafka.sasl.passwordFile, got "/run/secrets/pw"',
    );
  });

  it('names the file it cannot read', () => {
    assert.throws(
      () => resolveTransportConfig({ kafka: { ...kafka, tls: { caFile: '/nonexistent/ca.pem' } } }, extra, {}),
      (error: unknown) =>
        error instanceof LogSdkError &&
        error.code === 'GB_SDK_UNREADABLE_FILE' &&
        error.message.startsWith('cannot read kafka.tls.caFile "/nonexistent/ca.pem": '),
    );
  });

  it('offers zstd only where zlib has it', () => {
    const options: LoggerOptions = { kafka: { ...kafka, compression: 'zstd' } };
    if (zstdAvailable()) assert.equal(resolveTransportConfig(options, extra, {}).compression, 'zstd');
    else
      rejects(
        options,
        `invalid option kafka.compression: expected a codec this Node (${process.version}) has: zstd needs Node ≥ 22.15, got "zstd"`,
      );
  });
});
