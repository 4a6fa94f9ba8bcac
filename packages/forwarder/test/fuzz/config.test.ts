// Config fuzzing (issue #10, "bad input"): for every field of the schema — the list comes from
// configLeaves(), so a new field is covered without touching this file — invalid values from a YAML
// or JSON file, a GRAYBRIDGE_* variable and a flag, on top of a valid config. Loading must throw the
// one config error (GB_FORWARDER_INVALID_OPTION) naming the field, where the value came from and
// what was expected, and never hand back a config: nothing starts half-configured.
//
// GRAYBRIDGE_FUZZ_RUNS scales it (a tenth of it is the number of configs; at least 3,000).
// GRAYBRIDGE_FUZZ_SEED: fast-check's seed (fixed by default; a failure prints seed and counterexample).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { configLeaves, loadConfig, type ConfigInputs, type ConfigLeaf } from '../../src/config/load.js';
import type { Field } from '../../src/config/schema.js';
import { ForwarderError, ForwarderErrorCodes } from '../../src/errors.js';
import { fuzzRuns, fuzzSeed } from './settings.js';

const seed = fuzzSeed;
const configs = Math.max(3000, Math.ceil(fuzzRuns(0) / 10));

const leaves = configLeaves();
const dir = mkdtempSync(join(tmpdir(), 'graybridge-config-fuzz-'));

/** A valid config in each source; every generated case changes one field of it (or a few). */
const base = {
  kafka: { brokers: ['kafka-0:9092'] },
  gelf: { host: 'graylog', url: 'http://graylog:12202/gelf' },
  redis: { url: 'redis://redis:6379' },
};
const baseEnv: Readonly<Record<string, string>> = {
  GRAYBRIDGE_KAFKA_BROKERS: 'kafka-0:9092',
  GRAYBRIDGE_GELF_HOST: 'graylog',
  GRAYBRIDGE_GELF_URL: 'http://graylog:12202/gelf',
  GRAYBRIDGE_REDIS_URL: 'redis://redis:6379',
};

// ---------------------------------------------------------------------------------------------
// Invalid values, from the field's type and bounds.

/** Values of the wrong type, as a YAML or JSON file can hold them. */
function wrongTypes(field: Field): fc.Arbitrary<unknown> {
  const notString = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  );
  const notNumber = fc.oneof(
    fc.boolean(),
    fc.integer({ min: field.type === 'integer' ? field.min : 0, max: 65_535 }).map(String), // "12201" is text
    fc.constantFrom('', 'twelve', '1e3'),
    fc.array(fc.integer(), { minLength: 1, maxLength: 2 }),
    fc.constant({ value: 1 }),
  );
  switch (field.type) {
    case 'string':
      return fc.oneof(notString, blank, ...(field.choices === undefined ? [] : [unknownChoice(field.choices)]));
    case 'integer':
      return fc.oneof(notNumber, outOfRange(field.min, field.max));
    case 'boolean':
      return fc.oneof(
        fc.constantFrom('true', 'false', 'yes', 'no', 'on', '1', ''),
        fc.integer({ min: 0, max: 1 }),
        fc.constant([true]),
        fc.constant({ enabled: true }),
      );
    case 'list':
      return fc.oneof(
        fc.string({ maxLength: 8 }), // "a,b" in a file is a string, not a list
        fc.integer(),
        fc.constant({ 0: 'a' }),
        fc
          .tuple(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), fc.constant(null), fc.constant(['nested']), blank))
          .map(([good, bad]) => [good === '' ? 'x' : good, bad]),
      );
  }
}

const blank = fc.constantFrom('', ' ', '   ', '\t', '\n', ' \r\n ');

function unknownChoice(choices: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !choices.includes(s)),
    fc.constantFrom(...choices).map((c) => c.toUpperCase()),
    fc.constantFrom(...choices).map((c) => ` ${c}`),
    fc.constantFrom(...choices).map((c) => `${c},${c}`),
  );
}

function outOfRange(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: min - 1 }),
    fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER }),
    fc.constantFrom(min - 1, max + 1, -1, 1e21, -1e21),
    // Not integers, though in range.
    fc.integer({ min, max: max - 1 }).map((n) => n + 0.5),
  );
}

/** Text from an env variable or a flag that the field cannot take. */
function wrongText(field: Field): fc.Arbitrary<string> | undefined {
  switch (field.type) {
    case 'string':
      // Empty text from env means "unset"; blank text is a mistake.
      return fc.oneof(
        blank.filter((s) => s !== ''),
        ...(field.choices === undefined ? [] : [unknownChoice(field.choices)]),
      );
    case 'integer':
      return fc.oneof(
        outOfRange(field.min, field.max).map(String),
        fc.constantFrom(
          '1.5',
          '1e3',
          '0x10',
          '0o17',
          'abc',
          '+5',
          '--1',
          ' ',
          'NaN',
          'Infinity',
          '١٢',
          '12abc',
          '1_000',
        ),
      );
    case 'boolean':
      return fc.constantFrom('yes', 'no', 'on', 'off', '2', 'truee', 't', 'y', ' ', 'constructor', '__proto__');
    case 'list':
      return undefined; // any text is a list; the fields with more rules have their own cases below
  }
}

/**
 * Values that pass the field's type but not the rules across fields, for the fields that have
 * some: the error must name the field to fix (`named`, when it is the other one of a pair).
 */
interface RuleCase {
  readonly path: string;
  readonly value: unknown;
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly named?: string;
  /** Where the value is invalid, when not everywhere. */
  readonly sources?: readonly Source[];
}

const ruleCases: readonly RuleCase[] = [
  ...[
    'kafka',
    'kafka:',
    ':9092',
    'kafka:0',
    'kafka:65536',
    'kafka:99999',
    'ka fka:9092',
    'kafka:9092:1',
    'kafka:-1',
  ].map((broker) => ({ path: 'kafka.brokers', value: [broker] })),
  // Empty lists: a file's [], or text of only commas.
  { path: 'kafka.brokers', value: [] },
  { path: 'kafka.topics', value: [] },
  ...['/(/', '/[/', '/*/', '/a{2,1}/', '/\\/', 'my topic', 'logs!', '..', 'x'.repeat(250)].map((topic) => ({
    path: 'kafka.topics',
    value: ['logs', topic],
  })),
  // Text lists split at commas: this regex survives only in a file.
  { path: 'kafka.topics', value: ['/logs-\\d{1,3}/'], sources: ['env', 'flag'] },
  ...[
    'ftp://graylog/gelf',
    'http://',
    'http://a b/gelf',
    'graylog:12202',
    'http//graylog',
    'https:/graylog',
    '//graylog',
  ].map((url) => ({ path: 'gelf.url', value: url, extra: { 'gelf.transport': 'http' } })),
  ...['http://redis:6379', 'redis:/redis', 'redis://', 'redis://a b', 'localhost:6379'].map((url) => ({
    path: 'redis.url',
    value: url,
  })),
  { path: 'gelf.retryInitialMillis', value: 20_000, extra: { 'gelf.retryMaxMillis': 10_000 } },
  { path: 'kafka.tls.certFile', value: '/tls/cert.pem', named: 'kafka.tls.keyFile' },
  { path: 'gelf.tls.keyFile', value: '/tls/key.pem', named: 'gelf.tls.certFile' },
  { path: 'kafka.sasl.username', value: 'user', named: 'kafka.sasl.mechanism' },
  { path: 'kafka.sasl.mechanism', value: 'plain', named: 'kafka.sasl.username' },
  {
    path: 'kafka.sasl.password',
    value: 'secret-password',
    extra: { 'kafka.sasl.mechanism': 'plain', 'kafka.sasl.username': 'u', 'kafka.sasl.passwordFile': '/p' },
    named: 'kafka.sasl.passwordFile',
  },
];

// ---------------------------------------------------------------------------------------------
// Sources.

type Source = 'yaml' | 'json' | 'env' | 'flag';

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const child = Object.hasOwn(node, key) ? node[key] : undefined;
    const next = typeof child === 'object' && child !== null ? { ...(child as Record<string, unknown>) } : {};
    Object.defineProperty(node, key, { value: next, enumerable: true, writable: true, configurable: true });
    node = next;
  }
  Object.defineProperty(node, keys.at(-1) ?? '', { value, enumerable: true, writable: true, configurable: true });
}

let files = 0;
function configFile(values: Readonly<Record<string, unknown>>, format: 'yaml' | 'json'): string {
  const document: Record<string, unknown> = structuredClone(base);
  for (const [path, value] of Object.entries(values)) setPath(document, path, value);
  files += 1;
  const path = join(dir, `config-${files % 16}.${format}`);
  writeFileSync(path, format === 'json' ? JSON.stringify(document) : toYaml(document));
  return path;
}

const leafOf = (path: string): ConfigLeaf => {
  const leaf = leaves.find((l) => l.path === path);
  assert.ok(leaf !== undefined, `no field ${path} in the schema`);
  return leaf;
};

/** The same values as a file (YAML or JSON, by --config or GRAYBRIDGE_CONFIG), env variables or flags. */
function inputsFor(source: Source, values: Readonly<Record<string, unknown>>, viaEnv = false): ConfigInputs {
  if (source === 'yaml' || source === 'json') {
    const path = configFile(values, source);
    return viaEnv ? { argv: [], env: { GRAYBRIDGE_CONFIG: path } } : { argv: ['--config', path], env: {} };
  }
  // An empty list as text is "," (an empty variable would mean unset).
  const text = (value: unknown): string =>
    Array.isArray(value) ? (value.length === 0 ? ',' : value.join(',')) : String(value);
  if (source === 'env') {
    const env: Record<string, string> = { ...baseEnv };
    for (const [path, value] of Object.entries(values)) env[leafOf(path).env] = text(value);
    return { argv: [], env };
  }
  const argv = Object.entries(values).map(([path, value]) => {
    const flag = leafOf(path).flag;
    // A boolean flag is given bare or negated; with a value it is refused.
    if (typeof value === 'boolean') return value ? `--${flag}` : `--no-${flag}`;
    return `--${flag}=${text(value)}`;
  });
  return { argv, env: { ...baseEnv } };
}

/** Where a message says a value came from. */
function sourceWords(source: Source, leaf: ConfigLeaf): string {
  if (source === 'env') return `(env ${leaf.env})`;
  if (source === 'flag') return `(flag --${leaf.flag})`;
  return '(file ';
}

// ---------------------------------------------------------------------------------------------
// The property: one invalid field never loads, and the error names it.

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The config error; fails when loading succeeded or threw anything else. */
function configError(inputs: ConfigInputs, what: string): ForwarderError {
  let loaded: unknown;
  try {
    loaded = loadConfig(inputs);
  } catch (error) {
    assert.ok(error instanceof ForwarderError, `${what}: threw ${String(error)}, not a ForwarderError`);
    assert.equal(error.code, ForwarderErrorCodes.invalidOption, what);
    assert.equal(error.retriable, false, what);
    return error;
  }
  assert.fail(`${what}: loaded a config anyway (half-configured): ${JSON.stringify(loaded).slice(0, 300)}`);
}

/** The message's line about this field: it names the field, the source and the expectation. */
function checkNamed(message: string, leaf: ConfigLeaf, source: Source | undefined, given: unknown): void {
  if (source === 'flag' && leaf.field.type === 'boolean') {
    // A boolean flag takes no value: parseArgs refuses it before any field is read, by the flag's name.
    assert.match(message, new RegExp(`'--${escape(leaf.flag)}' does not take an argument`));
    return;
  }
  const line = message.split('\n').find((l) => new RegExp(`(invalid|missing) option ${escape(leaf.path)}\\b`).test(l));
  assert.ok(line !== undefined, `no line names ${leaf.path}:\n${message}`);
  const typeLevel = line.includes(`option ${leaf.path} (`);
  if (typeLevel) {
    if (source !== undefined) assert.ok(line.includes(sourceWords(source, leaf)), `the source is not named: ${line}`);
    assert.match(line, /: expected .+, got /);
    const field = leaf.field;
    if (field.type === 'integer') assert.ok(line.includes(`from ${field.min} to ${field.max}`), line);
    if (field.type === 'boolean') assert.ok(line.includes('true or false'), line);
    if (field.type === 'string' && field.choices !== undefined)
      for (const choice of field.choices) assert.ok(line.includes(JSON.stringify(choice)), line);
  } else {
    assert.match(line, /option [\w.]+: \S/, `the line says nothing more: ${line}`);
  }
  // Values are shown quoted (describeValue): a secret's never is.
  if (leaf.field.secret === true && typeof given === 'string')
    assert.ok(!message.includes(JSON.stringify(given)), `the secret ${leaf.path} is shown: ${line}`);
}

const anySource = fc.constantFrom<Source>('yaml', 'json', 'env', 'flag');

interface InvalidCase {
  readonly leaf: ConfigLeaf;
  readonly source: Source;
  readonly value: unknown;
  /** A file named by GRAYBRIDGE_CONFIG instead of --config. */
  readonly viaEnv: boolean;
}

/** One field, one source, one value that field cannot take from that source. */
const oneInvalid: fc.Arbitrary<InvalidCase> = fc
  .tuple(fc.constantFrom(...leaves), anySource, fc.boolean())
  .chain(([leaf, source, viaEnv]): fc.Arbitrary<InvalidCase> => {
    const text = wrongText(leaf.field);
    if ((source === 'env' || source === 'flag') && text !== undefined)
      return text.map((value) => ({ leaf, source, value, viaEnv }));
    // Lists: only a file can hold a value of the wrong type. JSON has no NaN or Infinity (null: unset).
    const file = source === 'json' ? 'json' : 'yaml';
    const value =
      file === 'json'
        ? wrongTypes(leaf.field)
        : fc.oneof(wrongTypes(leaf.field), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY));
    return value.map((v) => ({ leaf, source: file, value: v, viaEnv }));
  });

function display(value: unknown): string {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
}

describe(`config fuzzing (${configs} configs, seed ${seed}, ${leaves.length} fields from the schema)`, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('one invalid field, from a file, env or a flag: a named error, never a config', (t) => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(oneInvalid, ({ leaf, source, value, viaEnv }) => {
        seen.add(leaf.path);
        const what = `${leaf.path} = ${display(value)} from ${source}`;
        const error = configError(inputsFor(source, { [leaf.path]: value }, viaEnv), what);
        checkNamed(error.message, leaf, source, value);
      }),
      { seed, numRuns: Math.ceil(configs * 0.6), includeErrorInReport: true },
    );
    t.diagnostic(`${Math.ceil(configs * 0.6)} configs; fields covered: ${seen.size} of ${leaves.length}`);
    assert.equal(seen.size, leaves.length, 'every field of the schema had invalid values');
  });

  it('values of the right type that break a rule across fields name the field too', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ruleCases), anySource, ({ path, value, extra, named, sources }, source) => {
        fc.pre(sources === undefined || sources.includes(source));
        const what = `${path} = ${JSON.stringify(value)} from ${source}`;
        const error = configError(inputsFor(source, { ...extra, [path]: value }), what);
        checkNamed(error.message, leafOf(named ?? path), undefined, value);
      }),
      { seed: seed + 1, numRuns: Math.max(ruleCases.length * 4, Math.ceil(configs * 0.1)), includeErrorInReport: true },
    );
  });

  it('several invalid fields at once: every one is named in the same error', () => {
    const several = fc.uniqueArray(oneInvalid, {
      minLength: 2,
      maxLength: 5,
      selector: (c) => c.leaf.path,
    });
    fc.assert(
      fc.property(several, (cases) => {
        // A YAML file and env together (flags: a refused boolean flag stops parsing before the rest).
        const fileValues: Record<string, unknown> = {};
        const env: Record<string, string> = {};
        for (const { leaf, source, value } of cases) {
          if ((source === 'env' || source === 'flag') && typeof value === 'string') env[leaf.env] = value;
          else fileValues[leaf.path] = value;
        }
        const path = configFile(fileValues, 'yaml');
        const error = configError({ argv: ['--config', path], env }, JSON.stringify(cases.map((c) => c.leaf.path)));
        assert.match(error.message, new RegExp(`^${cases.length} config problems:`));
        for (const { leaf } of cases) checkNamed(error.message, leaf, undefined, undefined);
      }),
      { seed: seed + 2, numRuns: Math.ceil(configs * 0.1), includeErrorInReport: true },
    );
  });

  it('unknown keys in a file and unknown flags are errors naming them; unknown env variables are warnings', () => {
    const names = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'gelf_host', 'Gelf', ''),
      fc.string({ minLength: 1, maxLength: 10 }),
    );
    const sections = fc.constantFrom('', ...new Set(leaves.map((l) => l.path.split('.').slice(0, -1).join('.'))));
    fc.assert(
      fc.property(sections, names, fc.constantFrom<'yaml' | 'json'>('yaml', 'json'), (section, name, format) => {
        fc.pre(!name.includes('.') && !leaves.some((l) => l.path === (section === '' ? name : `${section}.${name}`)));
        const prefix = section.split('.').filter(Boolean);
        // A known section name at the top (or nested) with a scalar is "expected a mapping": skip those.
        fc.pre(!leaves.some((l) => l.path.startsWith([...prefix, name].join('.') + '.')));
        const path = [...prefix, name].join('.');
        const document: Record<string, unknown> = structuredClone(base);
        setPath(document, path, 1);
        const file = join(dir, `unknown.${format}`);
        writeFileSync(file, format === 'json' ? JSON.stringify(document) : toYaml(document));
        const error = configError({ argv: ['--config', file], env: {} }, `unknown key ${JSON.stringify(path)}`);
        assert.ok(error.message.includes(`unknown option ${path} (known here: `), error.message);
      }),
      { seed: seed + 3, numRuns: Math.ceil(configs * 0.1), includeErrorInReport: true },
    );
    const flags = new Set(leaves.map((l) => l.flag));
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), (flag) => {
        fc.pre(!flags.has(flag) && flag !== 'config' && !flags.has(flag.replace(/^no-/, '')));
        const error = configError({ argv: [`--${flag}=1`], env: { ...baseEnv } }, `--${flag}`);
        assert.ok(error.message.includes(`'--${flag}'`), error.message);
      }),
      { seed: seed + 4, numRuns: Math.ceil(configs * 0.1), includeErrorInReport: true },
    );
    const { warnings } = loadConfig({ env: { ...baseEnv, GRAYBRIDGE_GELF_HSOT: 'x', GRAYBRIDGE___PROTO__: 'x' } });
    assert.deepEqual(warnings, [
      'env GRAYBRIDGE_GELF_HSOT is not a forwarder option (ignored)',
      'env GRAYBRIDGE___PROTO__ is not a forwarder option (ignored)',
    ]);
  });

  it('a valid value for any field loads, from any source (the properties above are not vacuous)', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(...leaves.filter((l) => !pairedFields.has(l.path)))
          .chain((leaf) => fc.tuple(fc.constant(leaf), validValue(leaf), anySource)),
        ([leaf, value, source]) => {
          const { config, sources } = loadConfig(inputsFor(source, { [leaf.path]: value }));
          const read = leaf.path
            .split('.')
            .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
          assert.deepEqual(read, value, `${leaf.path} from ${source}`);
          assert.equal(sources[leaf.path], source === 'yaml' || source === 'json' ? 'file' : source);
        },
      ),
      { seed: seed + 5, numRuns: Math.ceil(configs * 0.1), includeErrorInReport: true },
    );
  });
});

/** Fields valid only together with another (mutual TLS, SASL): covered by ruleCases instead. */
const pairedFields = new Set([
  'kafka.tls.certFile',
  'kafka.tls.keyFile',
  'gelf.tls.certFile',
  'gelf.tls.keyFile',
  'kafka.sasl.mechanism',
  'kafka.sasl.username',
  'kafka.sasl.password',
  'kafka.sasl.passwordFile',
]);

const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);

function validValue(leaf: ConfigLeaf): fc.Arbitrary<unknown> {
  switch (leaf.path) {
    case 'kafka.brokers':
      return fc.array(
        fc.tuple(word, fc.integer({ min: 1, max: 65_535 })).map(([h, p]) => `${h}:${p}`),
        {
          minLength: 1,
          maxLength: 3,
        },
      );
    case 'kafka.topics':
      return fc.array(word, { minLength: 1, maxLength: 3 });
    case 'gelf.url':
      return fc.tuple(word, fc.integer({ min: 1, max: 65_535 })).map(([h, p]) => `https://${h}:${p}/gelf`);
    case 'redis.url':
      return word.map((h) => `redis://${h}:6379/0`);
    case 'gelf.retryInitialMillis':
      return fc.integer({ min: 1, max: 10_000 }); // at most the default retryMaxMillis
    case 'gelf.retryMaxMillis':
      return fc.integer({ min: 200, max: 600_000 }); // at least the default retryInitialMillis
  }
  const field = leaf.field;
  switch (field.type) {
    case 'string':
      return field.choices === undefined ? word : fc.constantFrom(...field.choices);
    case 'integer':
      return fc.integer({ min: field.min, max: field.max });
    case 'boolean':
      return fc.boolean();
    case 'list':
      return fc.array(word, { minLength: 1, maxLength: 3 });
  }
}
