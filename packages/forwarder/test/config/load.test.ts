import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configLeaves, loadConfig, redactedConfig } from '../../src/config/load.js';
import { ForwarderError, ForwarderErrorCodes } from '../../src/errors.js';

const minimal = { GRAYBRIDGE_KAFKA_BROKERS: 'kafka-0:9092', GRAYBRIDGE_GELF_HOST: 'graylog' };

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'graybridge-config-')), name);
  writeFileSync(path, text);
  return path;
}

function problems(inputs: Parameters<typeof loadConfig>[0]): string {
  try {
    loadConfig(inputs);
  } catch (error) {
    assert.ok(error instanceof ForwarderError);
    assert.equal(error.code, ForwarderErrorCodes.invalidOption);
    assert.equal(error.retriable, false);
    return error.message;
  }
  assert.fail('expected a config error');
}

describe('config: names derived from the schema', () => {
  it('env is GRAYBRIDGE_ + the path in upper snake case, the flag is the path in kebab case', () => {
    const leaf = configLeaves().find((l) => l.path === 'kafka.tls.caFile');
    assert.deepEqual(
      { env: leaf?.env, flag: leaf?.flag },
      { env: 'GRAYBRIDGE_KAFKA_TLS_CA_FILE', flag: 'kafka-tls-ca-file' },
    );
    const names = configLeaves().flatMap((l) => [l.env, l.flag]);
    assert.equal(new Set(names).size, names.length, 'every env and flag name is unique');
  });
});

describe('config: sources and precedence', () => {
  it('defaults fill everything not given; required fields have no default', () => {
    const { config, sources } = loadConfig({ env: minimal });
    assert.deepEqual(config.kafka.topics, ['logs']);
    assert.equal(config.kafka.groupId, 'graybridge-forwarder');
    assert.equal(config.gelf.transport, 'tcp');
    assert.equal(config.gelf.port, 12201);
    assert.equal(config.kafka.sasl.password, undefined);
    assert.equal(sources['gelf.port'], 'default');
    assert.equal(sources['kafka.brokers'], 'env');
  });

  it('file < env < flags, for YAML and JSON files alike', () => {
    const yaml = file(
      'graybridge.yaml',
      'kafka:\n  brokers: [a:1]\n  groupId: from-file\ngelf:\n  host: g\n  port: 1000\n',
    );
    const json = file(
      'graybridge.json',
      JSON.stringify({ kafka: { brokers: ['a:1'], groupId: 'from-file' }, gelf: { host: 'g', port: 1000 } }),
    );
    for (const path of [yaml, json]) {
      const {
        config,
        sources,
        file: used,
      } = loadConfig({
        argv: ['--config', path, '--gelf-port', '3000'],
        env: { GRAYBRIDGE_GELF_PORT: '2000', GRAYBRIDGE_KAFKA_CLIENT_ID: 'from-env' },
      });
      assert.equal(used, path);
      assert.equal(config.kafka.groupId, 'from-file');
      assert.equal(config.kafka.clientId, 'from-env');
      assert.equal(config.gelf.port, 3000);
      assert.deepEqual(
        [sources['kafka.groupId'], sources['kafka.clientId'], sources['gelf.port']],
        ['file', 'env', 'flag'],
      );
    }
    assert.equal(loadConfig({ env: { GRAYBRIDGE_CONFIG: yaml } }).config.gelf.port, 1000);
  });

  it('converts text: lists by comma or repeated flags, booleans both ways, integers', () => {
    const { config } = loadConfig({
      argv: ['--kafka-topics', 'a,b', '--kafka-topics', '/^app-.*/', '--no-kafka-from-beginning', '--gelf-http-bulk'],
      env: {
        ...minimal,
        GRAYBRIDGE_KUBERNETES_NAMESPACE_LABELS: 'false',
        GRAYBRIDGE_KAFKA_BROKERS: 'k0:9092, k1:9092',
      },
    });
    assert.deepEqual(config.kafka.topics, ['a', 'b', '/^app-.*/']);
    assert.deepEqual(config.kafka.brokers, ['k0:9092', 'k1:9092']);
    assert.equal(config.kafka.fromBeginning, false);
    assert.equal(config.gelf.httpBulk, true);
    assert.equal(config.kubernetes.namespaceLabels, false);
  });

  it("warns about GRAYBRIDGE_* variables no option reads (typos), not about the SDK's", () => {
    const { warnings } = loadConfig({ env: { ...minimal, GRAYBRIDGE_GELF_HSOT: 'x', GRAYBRIDGE_KAFKA_TOPIC: 'logs' } });
    assert.deepEqual(warnings, ['env GRAYBRIDGE_GELF_HSOT is not a forwarder option (ignored)']);
  });

  it('an empty env variable counts as unset (templated manifests produce them)', () => {
    assert.equal(loadConfig({ env: { ...minimal, GRAYBRIDGE_GELF_PORT: '' } }).config.gelf.port, 12201);
  });
});

describe('config: every problem is named, with its source, expectation and value', () => {
  it('reports all problems at once', () => {
    const message = problems({
      argv: ['--gelf-transport', 'smoke-signals'],
      env: { GRAYBRIDGE_GELF_PORT: 'abc', GRAYBRIDGE_KAFKA_MAX_BATCH_RECORDS: '0' },
    });
    assert.match(message, /^4 config problems:/);
    assert.match(message, /missing option kafka\.brokers \(env GRAYBRIDGE_KAFKA_BROKERS, flag --kafka-brokers\)/);
    assert.match(
      message,
      /invalid option gelf\.transport \(flag --gelf-transport\): expected one of "tcp", "udp", "http", got "smoke-signals"/,
    );
    assert.match(
      message,
      /invalid option gelf\.port \(env GRAYBRIDGE_GELF_PORT\): expected an integer from 1 to 65535, got "abc"/,
    );
    assert.match(
      message,
      /invalid option kafka\.maxBatchRecords \(env GRAYBRIDGE_KAFKA_MAX_BATCH_RECORDS\): expected an integer from 1 to 100000, got "0"/,
    );
  });

  it('file values keep their YAML types: a quoted number is not a port; unknown keys are errors', () => {
    const path = file('bad.yaml', 'kafka:\n  brokers: a:1\n  grupId: x\ngelf:\n  host: g\n  port: "12201"\n');
    const message = problems({ argv: ['--config', path] });
    assert.match(message, /unknown option kafka\.grupId \(known here: brokers, topics, groupId/);
    assert.match(
      message,
      new RegExp(`invalid option kafka\\.brokers \\(file ${path}\\): expected a list of non-empty strings, got "a:1"`),
    );
    assert.match(message, /invalid option gelf\.port \(file .*\): expected an integer from 1 to 65535, got "12201"/);
  });

  it('secrets never appear in messages', () => {
    const message = problems({ env: { ...minimal, GRAYBRIDGE_KAFKA_SASL_PASSWORD: 'hunter2' } });
    assert.match(message, /missing option kafka\.sasl\.mechanism/);
    assert.doesNotMatch(message, /hunter2/);
    const path = file('secret.yaml', 'kafka:\n  sasl:\n    password: 42\n');
    const fromFile = problems({ env: minimal, argv: ['--config', path] });
    assert.match(
      fromFile,
      /invalid option kafka\.sasl\.password \(file .*\): expected a non-empty string, got \(hidden\)/,
    );
    const { config } = loadConfig({
      env: {
        ...minimal,
        GRAYBRIDGE_KAFKA_SASL_MECHANISM: 'plain',
        GRAYBRIDGE_KAFKA_SASL_USERNAME: 'u',
        GRAYBRIDGE_KAFKA_SASL_PASSWORD: 'hunter2',
      },
    });
    assert.doesNotMatch(JSON.stringify(redactedConfig(config)), /hunter2/);
  });

  it('rules across fields', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ GRAYBRIDGE_KAFKA_BROKERS: 'k:9092' }, /missing option gelf\.host: transport "tcp" needs Graylog's host/],
      [{ ...minimal, GRAYBRIDGE_GELF_TRANSPORT: 'http' }, /missing option gelf\.url: transport "http"/],
      [
        { ...minimal, GRAYBRIDGE_GELF_TRANSPORT: 'http', GRAYBRIDGE_GELF_URL: 'graylog:12202' },
        /invalid option gelf\.url: expected an http:\/\/ or https:\/\/ URL/,
      ],
      [
        { ...minimal, GRAYBRIDGE_GELF_TLS_CERT_FILE: '/c.pem' },
        /missing option gelf\.tls\.keyFile: gelf\.tls\.certFile is set, and mutual TLS needs both/,
      ],
      [
        { ...minimal, GRAYBRIDGE_KAFKA_SASL_USERNAME: 'u' },
        /missing option kafka\.sasl\.mechanism: SASL credentials are set/,
      ],
      [
        { ...minimal, GRAYBRIDGE_KAFKA_SASL_MECHANISM: 'scram-sha-512', GRAYBRIDGE_KAFKA_SASL_USERNAME: 'u' },
        /missing option kafka\.sasl\.password: scram-sha-512 needs it or kafka\.sasl\.passwordFile/,
      ],
      [
        { ...minimal, GRAYBRIDGE_KAFKA_BROKERS: 'kafka-0' },
        /invalid option kafka\.brokers: expected "host:port" entries with a port from 1 to 65535, got "kafka-0"/,
      ],
      [
        { ...minimal, GRAYBRIDGE_KAFKA_TOPICS: '/app-[/' },
        /invalid option kafka\.topics: "\/app-\[\/" is not a valid regular expression/,
      ],
      [
        { ...minimal, GRAYBRIDGE_GELF_RETRY_INITIAL_MILLIS: '5000', GRAYBRIDGE_GELF_RETRY_MAX_MILLIS: '100' },
        /retryInitialMillis: expected at most gelf\.retryMaxMillis/,
      ],
      [
        { ...minimal, GRAYBRIDGE_KUBERNETES_MODE: 'redis' },
        /missing option redis\.url: kubernetes\.mode "redis" reads the metadata/,
      ],
      [{ ...minimal, GRAYBRIDGE_REDIS_URL: 'localhost:6379' }, /invalid option redis\.url: expected a redis:\/\//],
    ];
    for (const [env, expected] of cases) assert.match(problems({ env }), expected);
  });

  it('rules the config fuzzing found missing: what would only fail later, at connect or subscribe', () => {
    const cases: [Record<string, string>, RegExp][] = [
      // A list of only separators is an empty list: no broker to reach, no topic to read.
      [
        { ...minimal, GRAYBRIDGE_KAFKA_BROKERS: ',' },
        /invalid option kafka\.brokers: expected at least one "host:port"/,
      ],
      [{ ...minimal, GRAYBRIDGE_KAFKA_TOPICS: ' , ' }, /invalid option kafka\.topics: expected at least one topic/],
      [{ ...minimal, GRAYBRIDGE_KAFKA_BROKERS: 'kafka-0:99999' }, /port from 1 to 65535, got "kafka-0:99999"/],
      [{ ...minimal, GRAYBRIDGE_KAFKA_BROKERS: 'kafka-0:0' }, /port from 1 to 65535, got "kafka-0:0"/],
      // Blank is empty.
      [
        { ...minimal, GRAYBRIDGE_GELF_HOST: '   ' },
        /invalid option gelf\.host \(env GRAYBRIDGE_GELF_HOST\): expected a non-empty string, got " {3}"/,
      ],
      // The prefix was right, but no client could parse these.
      [
        { ...minimal, GRAYBRIDGE_GELF_TRANSPORT: 'http', GRAYBRIDGE_GELF_URL: 'http://graylog host/gelf' },
        /invalid option gelf\.url: expected an http:\/\/ or https:\/\/ URL, got "http:\/\/graylog host\/gelf"/,
      ],
      [{ ...minimal, GRAYBRIDGE_REDIS_URL: 'redis://re dis:6379' }, /invalid option redis\.url: expected a redis:\/\//],
      // The field to set is named, not only its section.
      [
        { ...minimal, GRAYBRIDGE_KAFKA_TLS_KEY_FILE: '/k.pem' },
        /missing option kafka\.tls\.certFile: kafka\.tls\.keyFile is set, and mutual TLS needs both/,
      ],
      [
        {
          ...minimal,
          GRAYBRIDGE_KAFKA_SASL_MECHANISM: 'plain',
          GRAYBRIDGE_KAFKA_SASL_USERNAME: 'u',
          GRAYBRIDGE_KAFKA_SASL_PASSWORD: 'p',
          GRAYBRIDGE_KAFKA_SASL_PASSWORD_FILE: '/p',
        },
        /invalid option kafka\.sasl\.passwordFile: kafka\.sasl\.password is set too; give one of them/,
      ],
    ];
    for (const [env, expected] of cases) assert.match(problems({ env }), expected);
    const path = file('empty-lists.yaml', 'kafka:\n  brokers: []\n  topics: ["logs", " "]\ngelf:\n  host: g\n');
    assert.match(
      problems({ argv: ['--config', path] }),
      /invalid option kafka\.topics \(file .*\): expected a list of non-empty strings, got an array/,
    );
  });

  it('a command that uses only some sections is not held to the others’ required options and rules', () => {
    const env = { GRAYBRIDGE_REDIS_URL: 'redis://r:6379', GRAYBRIDGE_GELF_TRANSPORT: 'http' };
    const { config } = loadConfig({ env, sections: ['kubernetes', 'redis', 'ops'] });
    assert.equal(config.redis.url, 'redis://r:6379');
    assert.match(
      problems({ env: { ...env, GRAYBRIDGE_REDIS_URL: 'r:6379' }, sections: ['kubernetes', 'redis', 'ops'] }),
      /invalid option redis\.url/,
    );
  });

  it('unknown flags, unreadable and malformed files', () => {
    assert.match(problems({ env: minimal, argv: ['--gelf-prot', '1'] }), /Unknown option '--gelf-prot'/);
    assert.match(
      problems({ argv: ['--config', '/nonexistent/graybridge.yaml'] }),
      /cannot read config file \/nonexistent\/graybridge\.yaml/,
    );
    assert.match(
      problems({ argv: ['--config', file('broken.yaml', 'kafka: [unclosed\n')] }),
      /is not valid YAML or JSON/,
    );
    assert.match(
      problems({ argv: ['--config', file('list.yaml', '- a\n- b\n')] }),
      /expected a mapping of options, got an array/,
    );
  });
});
