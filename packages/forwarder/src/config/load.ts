import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ForwarderError, ForwarderErrorCodes, describeValue } from '../errors.js';
import { forwarderConfigSchema, isField, type Field, type ForwarderConfig, type Section } from './schema.js';
import { topicPattern } from './files.js';

/** A field of the schema with the names it goes by in each source. */
export interface ConfigLeaf {
  /** `kafka.tls.caFile`: the key path in a config file and in error messages. */
  readonly path: string;
  readonly field: Field;
  /** `GRAYBRIDGE_KAFKA_TLS_CA_FILE` */
  readonly env: string;
  /** `kafka-tls-ca-file`, given as `--kafka-tls-ca-file` */
  readonly flag: string;
}

export type ValueSource = 'default' | 'file' | 'env' | 'flag';

export interface LoadedConfig {
  readonly config: ForwarderConfig;
  /** Where each set value came from, by path (unset optional fields are absent). */
  readonly sources: Readonly<Record<string, ValueSource>>;
  /** The config file read, if any. */
  readonly file: string | undefined;
  /** Not errors, but likely mistakes: `GRAYBRIDGE_*` variables no option reads. */
  readonly warnings: readonly string[];
}

export interface ConfigInputs {
  /** CLI arguments after the command; `--config FILE` names a YAML or JSON file. */
  readonly argv?: readonly string[];
  /** @defaultValue process.env; `GRAYBRIDGE_CONFIG` names a file like `--config`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The top-level sections the command uses (e.g. `graybridge enricher` needs no Kafka): required
   * options and cross-field rules of the others are not enforced. @defaultValue all
   */
  readonly sections?: readonly string[];
}

/** Read by the log SDK or the test rig, not by the forwarder: no warning when a shared env has them. */
const sdkVariables = new Set([
  'GRAYBRIDGE_KAFKA_TOPIC',
  'GRAYBRIDGE_SERVICE',
  'GRAYBRIDGE_SERVICE_VERSION',
  'GRAYBRIDGE_ENV',
  'GRAYBRIDGE_POD_NAME',
  'GRAYBRIDGE_POD_NAMESPACE',
  'GRAYBRIDGE_NODE_NAME',
  'GRAYBRIDGE_CONTAINER_NAME',
  'GRAYBRIDGE_POD_UID',
  'GRAYBRIDGE_POD_IP',
  'GRAYBRIDGE_RIG_STATE',
  'GRAYBRIDGE_RIG_DIR',
  'GRAYBRIDGE_NODE20',
]);

const words = (name: string): string[] =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(' ');

/** Every field of a schema, depth first, with its env and flag names. */
export function configLeaves(schema: Section = forwarderConfigSchema, prefix: readonly string[] = []): ConfigLeaf[] {
  return Object.entries(schema).flatMap(([key, node]) => {
    const path = [...prefix, key];
    if (!isField(node)) return configLeaves(node, path);
    const parts = path.flatMap(words);
    return [
      { path: path.join('.'), field: node, env: `GRAYBRIDGE_${parts.join('_').toUpperCase()}`, flag: parts.join('-') },
    ];
  });
}

/** What a field accepts, in the words of an error message. */
function expectation(field: Field): string {
  switch (field.type) {
    case 'string':
      return field.choices === undefined
        ? 'a non-empty string'
        : `one of ${field.choices.map((c) => JSON.stringify(c)).join(', ')}`;
    case 'integer':
      return `an integer from ${field.min} to ${field.max}`;
    case 'boolean':
      return 'true or false';
    case 'list':
      return 'a list of non-empty strings';
  }
}

type Value = string | number | boolean | readonly string[];

/** Checks one value against its field; text from env or flags is converted first. */
function checkValue(field: Field, raw: unknown, fromText: boolean): { ok: true; value: Value } | { ok: false } {
  switch (field.type) {
    case 'string':
      // Blank counts as empty: a host or a path of spaces would only fail later, at connect or open.
      return typeof raw === 'string' &&
        raw.trim() !== '' &&
        (field.choices === undefined || field.choices.includes(raw))
        ? { ok: true, value: raw }
        : { ok: false };
    case 'integer': {
      const value = fromText && typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
      return typeof value === 'number' && Number.isInteger(value) && value >= field.min && value <= field.max
        ? { ok: true, value }
        : { ok: false };
    }
    case 'boolean': {
      const text = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
      const value =
        fromText && text !== undefined ? ({ true: true, '1': true, false: false, '0': false }[text] ?? raw) : raw;
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false };
    }
    case 'list': {
      const value =
        fromText && typeof raw === 'string'
          ? raw
              .split(',')
              .map((item) => item.trim())
              .filter((item) => item !== '')
          : raw;
      return Array.isArray(value) && value.every((item) => typeof item === 'string' && item.trim() !== '')
        ? { ok: true, value: value as string[] }
        : { ok: false };
    }
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ForwarderError(ForwarderErrorCodes.invalidOption, `cannot read config file ${path}: ${String(error)}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    throw new ForwarderError(
      ForwarderErrorCodes.invalidOption,
      `config file ${path} is not valid YAML or JSON: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ForwarderError(
      ForwarderErrorCodes.invalidOption,
      `config file ${path}: expected a mapping of options, got ${describeValue(parsed)}`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** The file's values by path; keys the schema does not know are reported, not ignored. */
function flattenFile(
  node: Record<string, unknown>,
  schema: Section,
  prefix: string,
  out: Map<string, unknown>,
  problems: string[],
): void {
  for (const [key, value] of Object.entries(node)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (spec === undefined) {
      problems.push(`unknown option ${path} (known here: ${Object.keys(schema).join(', ')})`);
    } else if (isField(spec)) {
      out.set(path, value);
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      flattenFile(value as Record<string, unknown>, spec, path, out, problems);
    } else if (value !== null) {
      problems.push(`invalid option ${path}: expected a mapping of options, got ${describeValue(value)}`);
    }
  }
}

function parseFlags(
  argv: readonly string[],
  leaves: readonly ConfigLeaf[],
): Map<string, unknown> & { configFile?: string } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { config: { type: 'string' } };
  for (const leaf of leaves) {
    options[leaf.flag] = {
      type: leaf.field.type === 'boolean' ? 'boolean' : 'string',
      multiple: leaf.field.type === 'list',
    };
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false, allowNegative: true }));
  } catch (error) {
    throw new ForwarderError(ForwarderErrorCodes.invalidOption, `${(error as Error).message} (see --help)`, {
      cause: error,
    });
  }
  const byPath: Map<string, unknown> & { configFile?: string } = new Map();
  const configFile = values.config;
  if (typeof configFile === 'string') byPath.configFile = configFile;
  for (const leaf of leaves) {
    const value = values[leaf.flag];
    if (value === undefined) continue;
    // Repeated list flags and comma-separated ones both work: `--kafka-topics a --kafka-topics b,c`.
    byPath.set(leaf.path, Array.isArray(value) ? value.join(',') : value);
  }
  return byPath;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1) ?? ''] = value;
}

/** Rules across fields, per section: what one field needs from another. */
const crossChecks: Readonly<Record<'gelf' | 'kafka' | 'kubernetes', (config: ForwarderConfig) => string[]>> = {
  gelf({ gelf }) {
    const problems: string[] = [];
    if (gelf.transport === 'http') {
      if (gelf.url === undefined) problems.push('missing option gelf.url: transport "http" needs the input\'s URL');
      else if (!isUrl(gelf.url, /^https?:\/\/[^/]+/))
        problems.push(`invalid option gelf.url: expected an http:// or https:// URL, got ${JSON.stringify(gelf.url)}`);
    } else if (gelf.host === undefined) {
      problems.push(`missing option gelf.host: transport "${gelf.transport}" needs Graylog's host`);
    }
    problems.push(...mutualTls('gelf.tls', gelf.tls));
    if (gelf.retryInitialMillis > gelf.retryMaxMillis)
      problems.push('invalid option gelf.retryInitialMillis: expected at most gelf.retryMaxMillis');
    return problems;
  },
  kafka({ kafka }) {
    const problems = mutualTls('kafka.tls', kafka.tls);
    const { sasl } = kafka;
    if (sasl.mechanism === 'none') {
      if (sasl.username !== undefined || sasl.password !== undefined || sasl.passwordFile !== undefined)
        problems.push('missing option kafka.sasl.mechanism: SASL credentials are set but no mechanism');
    } else {
      if (sasl.username === undefined)
        problems.push(`missing option kafka.sasl.username: ${sasl.mechanism} needs a user`);
      // Named by the field to set or to remove, not only by the section.
      if (sasl.password === undefined && sasl.passwordFile === undefined)
        problems.push(`missing option kafka.sasl.password: ${sasl.mechanism} needs it or kafka.sasl.passwordFile`);
      else if (sasl.password !== undefined && sasl.passwordFile !== undefined)
        problems.push('invalid option kafka.sasl.passwordFile: kafka.sasl.password is set too; give one of them');
    }
    // A list given as "," or [] is valid as a list, but a consumer needs somewhere to read from.
    if (kafka.brokers.length === 0) problems.push('invalid option kafka.brokers: expected at least one "host:port"');
    if (kafka.topics.length === 0) problems.push('invalid option kafka.topics: expected at least one topic');
    for (const broker of kafka.brokers) {
      const port = /^[^\s:]+:(\d{1,5})$/.exec(broker)?.[1];
      if (port === undefined || Number(port) < 1 || Number(port) > 65535)
        problems.push(
          `invalid option kafka.brokers: expected "host:port" entries with a port from 1 to 65535, got ${JSON.stringify(broker)}`,
        );
    }
    for (const topic of kafka.topics) {
      let pattern: RegExp | undefined;
      try {
        pattern = topicPattern(topic);
      } catch {
        problems.push(`invalid option kafka.topics: ${JSON.stringify(topic)} is not a valid regular expression`);
        continue;
      }
      // Kafka's own rule for names. A name breaking it is never a topic, and most likely half of a
      // /regex/ that env or a flag split at its comma (`/logs-\d{1,3}/`).
      if (pattern === undefined && (!/^[A-Za-z0-9._-]{1,249}$/.test(topic) || topic === '.' || topic === '..')) {
        const hint = /^\/|\/$/.test(topic)
          ? ' (a /regex/ with a comma can only come from a file: text lists split at commas)'
          : '';
        problems.push(
          `invalid option kafka.topics: expected topic names of A-Z a-z 0-9 . _ - (at most 249) or a /regex/, got ${JSON.stringify(topic)}${hint}`,
        );
      }
    }
    return problems;
  },
  kubernetes({ kubernetes, redis }) {
    const problems: string[] = [];
    if (kubernetes.enabled && kubernetes.mode === 'redis' && redis.url === undefined)
      problems.push(
        'missing option redis.url: kubernetes.mode "redis" reads the metadata that `graybridge enricher` publishes there',
      );
    if (redis.url !== undefined && !isUrl(redis.url, /^rediss?:\/\/[^/]/))
      problems.push('invalid option redis.url: expected a redis:// or rediss:// URL');
    return problems;
  },
};

/** A URL of this shape that the clients can also parse: the shape alone let `http://a b` through. */
function isUrl(text: string, shape: RegExp): boolean {
  return shape.test(text) && URL.canParse(text);
}

/** Mutual TLS needs both files: the one missing is named. */
function mutualTls(path: string, tls: { certFile?: string | undefined; keyFile?: string | undefined }): string[] {
  if (tls.certFile !== undefined && tls.keyFile === undefined)
    return [`missing option ${path}.keyFile: ${path}.certFile is set, and mutual TLS needs both`];
  if (tls.keyFile !== undefined && tls.certFile === undefined)
    return [`missing option ${path}.certFile: ${path}.keyFile is set, and mutual TLS needs both`];
  return [];
}

/**
 * The forwarder's config from defaults < file (`--config` or `GRAYBRIDGE_CONFIG`) < `GRAYBRIDGE_*`
 * env < flags. Every problem is collected and thrown at once in one ForwarderError
 * (`GB_FORWARDER_INVALID_OPTION`), each line naming the option, where it came from, what was
 * expected and what was given (secrets shown as "(hidden)").
 */
export function loadConfig(inputs: ConfigInputs = {}): LoadedConfig {
  const env = inputs.env ?? process.env;
  const relevant = (path: string): boolean =>
    inputs.sections === undefined || inputs.sections.some((section) => path.split('.')[0] === section);
  const leaves = configLeaves();
  const flags = parseFlags(inputs.argv ?? [], leaves);
  const problems: string[] = [];
  const filePath = flags.configFile ?? (env.GRAYBRIDGE_CONFIG === '' ? undefined : env.GRAYBRIDGE_CONFIG);
  const fromFile = new Map<string, unknown>();
  if (filePath !== undefined) flattenFile(readConfigFile(filePath), forwarderConfigSchema, '', fromFile, problems);

  const config: Record<string, unknown> = {};
  const sources: Record<string, ValueSource> = {};
  for (const leaf of leaves) {
    const envText = env[leaf.env];
    const candidates: [ValueSource, string, unknown][] = [
      ['flag', `flag --${leaf.flag}`, flags.get(leaf.path)],
      ['env', `env ${leaf.env}`, envText === '' ? undefined : envText],
      ['file', `file ${filePath ?? ''}`, fromFile.get(leaf.path)],
    ];
    const given = candidates.find(([, , value]) => value !== undefined && value !== null);
    if (given === undefined) {
      const fallback = leaf.field.default;
      if (fallback !== undefined) {
        setPath(config, leaf.path, fallback);
        sources[leaf.path] = 'default';
      } else {
        if ('required' in leaf.field && relevant(leaf.path))
          problems.push(`missing option ${leaf.path} (env ${leaf.env}, flag --${leaf.flag})`);
        setPath(config, leaf.path, undefined);
      }
      continue;
    }
    const [source, where, raw] = given;
    const checked = checkValue(leaf.field, raw, source !== 'file');
    if (checked.ok) {
      setPath(config, leaf.path, checked.value);
      sources[leaf.path] = source;
    } else {
      const shown = leaf.field.secret === true ? '(hidden)' : describeValue(raw);
      problems.push(`invalid option ${leaf.path} (${where}): expected ${expectation(leaf.field)}, got ${shown}`);
    }
  }
  // Cross-field rules only make sense once every field has a valid value.
  if (problems.length === 0) {
    for (const [section, check] of Object.entries(crossChecks)) {
      if (relevant(section)) problems.push(...check(config as unknown as ForwarderConfig));
    }
  }
  if (problems.length > 0) {
    throw new ForwarderError(
      ForwarderErrorCodes.invalidOption,
      problems.length === 1 ? (problems[0] ?? '') : `${problems.length} config problems:\n  ${problems.join('\n  ')}`,
    );
  }
  // Every leaf was checked against its field above, so the object has the schema's shape.
  const known = new Set([...leaves.map((leaf) => leaf.env), 'GRAYBRIDGE_CONFIG']);
  const warnings = Object.keys(env)
    .filter((name) => name.startsWith('GRAYBRIDGE_') && !known.has(name) && !sdkVariables.has(name))
    .map((name) => `env ${name} is not a forwarder option (ignored)`);
  return { config: config as unknown as ForwarderConfig, sources, file: filePath, warnings };
}

/** The config as YAML-ready data with secrets replaced, for `graybridge config` and the start log. */
export function redactedConfig(config: ForwarderConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const leaf of configLeaves()) {
    const value = leaf.path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
    setPath(out, leaf.path, value !== undefined && leaf.field.secret === true ? '(hidden)' : value);
  }
  return out;
}
