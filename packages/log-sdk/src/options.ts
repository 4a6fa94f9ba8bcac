import { readFileSync } from 'node:fs';
import * as zlib from 'node:zlib';
import type { LoggerOptions as PinoOptions } from 'pino';
import { LogSdkError, LogSdkErrorCodes, invalidOption } from './errors.js';

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
export type DropPolicy = 'drop-newest' | 'drop-oldest';

export interface TlsOptions {
  /** PEM CA bundle to trust, inline. */
  readonly ca?: string;
  /** PEM CA bundle to trust, from a file (e.g. a mounted Secret). */
  readonly caFile?: string;
  /** Client certificate (mutual TLS), PEM inline or from `certFile`. */
  readonly cert?: string;
  readonly certFile?: string;
  readonly key?: string;
  readonly keyFile?: string;
  /** @defaultValue true */
  readonly rejectUnauthorized?: boolean;
  /** SNI name when it differs from the broker host. */
  readonly servername?: string;
}

export interface SaslOptions {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  /** Inline password; prefer `passwordFile` or `GRAYBRIDGE_KAFKA_SASL_PASSWORD`. */
  readonly password?: string;
  readonly passwordFile?: string;
}

export interface KafkaOptions {
  /** `host:port` list. @defaultValue env `GRAYBRIDGE_KAFKA_BROKERS` (comma-separated) */
  readonly brokers?: readonly string[];
  /** @defaultValue env `GRAYBRIDGE_KAFKA_TOPIC`, else `"logs"` */
  readonly topic?: string;
  /** @defaultValue `"graybridge-log-sdk"` */
  readonly clientId?: string;
  /** Record key. @defaultValue `"<namespace>/<pod>"` (one pod's records stay in order) */
  readonly key?: string;
  /** @defaultValue `"gzip"`. `zstd` needs Node ≥ 22.15 (zlib's zstd). */
  readonly compression?: Compression;
  /** -1 = all in-sync replicas, 1 = leader, 0 = none. @defaultValue -1 */
  readonly acks?: -1 | 0 | 1;
  /** kafkajs idempotent producer (one in-flight request per broker). @defaultValue false */
  readonly idempotent?: boolean;
  /** `true` for TLS with the system CAs, or the TLS settings. @defaultValue false */
  readonly tls?: boolean | TlsOptions;
  readonly sasl?: SaslOptions;
  /** @defaultValue 3000 */
  readonly connectionTimeoutMillis?: number;
  /** @defaultValue 30000 */
  readonly requestTimeoutMillis?: number;
  /** A record larger than this is dropped (counted as `record_too_large`). @defaultValue 1000000 */
  readonly maxRecordBytes?: number;
}

export interface BatchOptions {
  /** @defaultValue 10000 */
  readonly maxRecords?: number;
  /** @defaultValue 1048576 (1 MiB) */
  readonly maxBytes?: number;
  /** How long the first record of a batch may wait for company. @defaultValue 20 */
  readonly lingerMillis?: number;
}

export interface BufferOptions {
  /** @defaultValue 50000 */
  readonly maxRecords?: number;
  /** @defaultValue 67108864 (64 MiB) */
  readonly maxBytes?: number;
  /**
   * When full: `drop-newest` refuses incoming records (what is queued is delivered in order);
   * `drop-oldest` discards the oldest queued record to make room. Every drop is counted.
   * @defaultValue `"drop-newest"`
   */
  readonly dropPolicy?: DropPolicy;
}

export interface LoggerOptions {
  readonly kafka?: KafkaOptions;
  readonly batch?: BatchOptions;
  readonly buffer?: BufferOptions;
  /** @defaultValue env `GRAYBRIDGE_SERVICE`, `OTEL_SERVICE_NAME` */
  readonly service?: string;
  /** @defaultValue env `GRAYBRIDGE_SERVICE_VERSION` */
  readonly version?: string;
  /** @defaultValue env `GRAYBRIDGE_ENV` */
  readonly env?: string;
  /** Options for pino itself (level, redact, serializers, mixin, …). `transport` is ours. */
  readonly pino?: Omit<PinoOptions, 'transport'>;
  /** Write records to stdout as well while Kafka is unreachable (`kubectl logs`). @defaultValue true */
  readonly mirrorToStdoutWhenUnavailable?: boolean;
  /** At most one stderr warning per interval. @defaultValue 30000 */
  readonly warnIntervalMillis?: number;
  /** Flush on SIGTERM/SIGINT, then let the signal take its course. @defaultValue true */
  readonly handleSignals?: boolean;
  /** How long a flush on shutdown may take. @defaultValue 5000 */
  readonly shutdownTimeoutMillis?: number;
  /** Add `trace_id`/`span_id`/`trace_flags` of the active OpenTelemetry span. @defaultValue true */
  readonly traceContext?: boolean;
  /**
   * Censor the string values of common secret keys (`password`, `token`, `authorization`,
   * `cookie` … see `defaultRedactKeys`) at any depth as `[Redacted]`, in addition to `pino.redact`.
   * @defaultValue true
   */
  readonly redactSecrets?: boolean;
}

/** Everything the transport worker needs: plain data (it crosses a structured clone). */
export interface TransportConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly clientId: string;
  readonly key: string | null;
  readonly compression: Compression;
  readonly acks: -1 | 0 | 1;
  readonly idempotent: boolean;
  readonly tls: false | { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean; servername?: string };
  readonly sasl: null | { mechanism: SaslMechanism; username: string; password: string };
  readonly connectionTimeoutMillis: number;
  readonly requestTimeoutMillis: number;
  readonly maxRecordBytes: number;
  readonly batch: Required<BatchOptions>;
  readonly buffer: Required<BufferOptions>;
  readonly mirrorToStdoutWhenUnavailable: boolean;
  readonly warnIntervalMillis: number;
  readonly shutdownTimeoutMillis: number;
  /** JSON members (without braces) put first in every record; null when records carry them already. */
  readonly identityJson: string | null;
  /** Censor the values of `defaultRedactKeys` in each record. */
  readonly redactSecrets: boolean;
}

export const defaults = {
  topic: 'logs',
  clientId: 'graybridge-log-sdk',
  compression: 'gzip',
  acks: -1,
  connectionTimeoutMillis: 3000,
  requestTimeoutMillis: 30_000,
  maxRecordBytes: 1_000_000,
  batch: { maxRecords: 10_000, maxBytes: 1_048_576, lingerMillis: 20 },
  buffer: { maxRecords: 50_000, maxBytes: 67_108_864, dropPolicy: 'drop-newest' },
  mirrorToStdoutWhenUnavailable: true,
  warnIntervalMillis: 30_000,
  shutdownTimeoutMillis: 5000,
} as const;

type Env = Readonly<Record<string, string | undefined>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalObject(value: unknown, option: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw invalidOption(option, 'an object', value);
  return value;
}

function integer(value: unknown, option: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidOption(option, `an integer ≥ ${min}`, value);
  }
  return value;
}

function boolean(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(option, 'true or false', value);
  return value;
}

function nonEmptyString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidOption(option, 'a non-empty string', value);
  return value;
}

function optionalString(value: unknown, option: string): string | undefined {
  return value === undefined ? undefined : nonEmptyString(value, option);
}

function oneOf<T extends string | number>(value: unknown, option: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw invalidOption(option, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

function readOptionFile(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new LogSdkError(
      LogSdkErrorCodes.unreadableFile,
      `cannot read ${option} ${JSON.stringify(file)}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** Inline PEM or the file it names; both at once is a mistake worth naming. */
function pem(options: Record<string, unknown>, field: string, prefix: string): string | undefined {
  const inline = optionalString(options[field], `${prefix}.${field}`);
  const file = optionalString(options[`${field}File`], `${prefix}.${field}File`);
  if (inline !== undefined && file !== undefined) {
    throw invalidOption(`${prefix}.${field}File`, `only one of ${prefix}.${field} and ${prefix}.${field}File`, file);
  }
  return file === undefined ? inline : readOptionFile(file, `${prefix}.${field}File`);
}

function brokerList(value: unknown, env: Env): string[] {
  const fromEnv = env.GRAYBRIDGE_KAFKA_BROKERS?.split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  const brokers: unknown = value ?? fromEnv;
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw invalidOption('kafka.brokers', 'a non-empty list of "host:port" (or env GRAYBRIDGE_KAFKA_BROKERS)', brokers);
  }
  return brokers.map((broker: unknown, index) => {
    if (typeof broker !== 'string' || !/^[^\s:]+:\d{1,5}$/.test(broker)) {
      throw invalidOption(`kafka.brokers[${index}]`, '"host:port"', broker);
    }
    return broker;
  });
}

/** zlib gained zstd in Node 22.15 / 23.8; Node 20 has none. */
export function zstdAvailable(): boolean {
  return 'zstdCompress' in zlib;
}

function tlsConfig(value: unknown): TransportConfig['tls'] {
  if (value === undefined || value === false) return false;
  if (value === true) return { rejectUnauthorized: true };
  const tls = optionalObject(value, 'kafka.tls');
  const ca = pem(tls, 'ca', 'kafka.tls');
  const cert = pem(tls, 'cert', 'kafka.tls');
  const key = pem(tls, 'key', 'kafka.tls');
  if ((cert === undefined) !== (key === undefined)) {
    throw invalidOption(
      'kafka.tls.key',
      'a client key and certificate together',
      cert === undefined ? 'a key only' : 'a certificate only',
    );
  }
  const servername = optionalString(tls.servername, 'kafka.tls.servername');
  return {
    rejectUnauthorized: boolean(tls.rejectUnauthorized, 'kafka.tls.rejectUnauthorized', true),
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(servername === undefined ? {} : { servername }),
  };
}

function saslConfig(value: unknown, env: Env): TransportConfig['sasl'] {
  if (value === undefined) return null;
  const sasl = optionalObject(value, 'kafka.sasl');
  const mechanism = oneOf<SaslMechanism>(
    sasl.mechanism,
    'kafka.sasl.mechanism',
    ['plain', 'scram-sha-256', 'scram-sha-512'],
    'plain',
  );
  if (sasl.mechanism === undefined)
    throw invalidOption('kafka.sasl.mechanism', '"plain", "scram-sha-256" or "scram-sha-512"', undefined);
  const username = nonEmptyString(sasl.username, 'kafka.sasl.username');
  if (sasl.password !== undefined && (typeof sasl.password !== 'string' || sasl.password === '')) {
    throw invalidOption('kafka.sasl.password', 'a non-empty string', '(hidden)');
  }
  const inline = sasl.password;
  const file = optionalString(sasl.passwordFile, 'kafka.sasl.passwordFile');
  if (inline !== undefined && file !== undefined) {
    throw invalidOption('kafka.sasl.passwordFile', 'only one of kafka.sasl.password and kafka.sasl.passwordFile', file);
  }
  const password =
    inline ??
    (file === undefined ? env.GRAYBRIDGE_KAFKA_SASL_PASSWORD : readOptionFile(file, 'kafka.sasl.passwordFile').trim());
  if (password === undefined || password === '') {
    // Never echo the value: only say where a password may come from.
    throw invalidOption(
      'kafka.sasl.password',
      'a password (option, passwordFile or env GRAYBRIDGE_KAFKA_SASL_PASSWORD)',
      undefined,
    );
  }
  return { mechanism, username, password };
}

/**
 * Validates options (throwing a `LogSdkError` that names the option) and resolves defaults, env
 * and files into the plain config the transport worker gets.
 */
export function resolveTransportConfig(
  options: Pick<
    LoggerOptions,
    | 'kafka'
    | 'batch'
    | 'buffer'
    | 'mirrorToStdoutWhenUnavailable'
    | 'warnIntervalMillis'
    | 'shutdownTimeoutMillis'
    | 'redactSecrets'
  >,
  extra: {
    readonly defaultKey: string | undefined;
    readonly identityJson: string | null;
  },
  env: Env = process.env,
): TransportConfig {
  const kafka = optionalObject(options.kafka, 'kafka');
  const batch = optionalObject(options.batch, 'batch');
  const buffer = optionalObject(options.buffer, 'buffer');
  const compression = oneOf<Compression>(
    kafka.compression,
    'kafka.compression',
    ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
    defaults.compression,
  );
  if (compression === 'zstd' && !zstdAvailable()) {
    throw invalidOption(
      'kafka.compression',
      `a codec this Node (${process.version}) has: zstd needs Node ≥ 22.15`,
      compression,
    );
  }
  const config: TransportConfig = {
    redactSecrets: boolean(options.redactSecrets, 'redactSecrets', true),
    brokers: brokerList(kafka.brokers, env),
    topic: optionalString(kafka.topic, 'kafka.topic') ?? env.GRAYBRIDGE_KAFKA_TOPIC ?? defaults.topic,
    clientId: optionalString(kafka.clientId, 'kafka.clientId') ?? defaults.clientId,
    key: optionalString(kafka.key, 'kafka.key') ?? extra.defaultKey ?? null,
    compression,
    acks: oneOf<-1 | 0 | 1>(kafka.acks, 'kafka.acks', [-1, 0, 1], defaults.acks),
    idempotent: boolean(kafka.idempotent, 'kafka.idempotent', false),
    tls: tlsConfig(kafka.tls),
    sasl: saslConfig(kafka.sasl, env),
    connectionTimeoutMillis: integer(
      kafka.connectionTimeoutMillis,
      'kafka.connectionTimeoutMillis',
      1,
      defaults.connectionTimeoutMillis,
    ),
    requestTimeoutMillis: integer(
      kafka.requestTimeoutMillis,
      'kafka.requestTimeoutMillis',
      1,
      defaults.requestTimeoutMillis,
    ),
    maxRecordBytes: integer(kafka.maxRecordBytes, 'kafka.maxRecordBytes', 64, defaults.maxRecordBytes),
    batch: {
      maxRecords: integer(batch.maxRecords, 'batch.maxRecords', 1, defaults.batch.maxRecords),
      maxBytes: integer(batch.maxBytes, 'batch.maxBytes', 1024, defaults.batch.maxBytes),
      lingerMillis: integer(batch.lingerMillis, 'batch.lingerMillis', 0, defaults.batch.lingerMillis),
    },
    buffer: {
      maxRecords: integer(buffer.maxRecords, 'buffer.maxRecords', 1, defaults.buffer.maxRecords),
      maxBytes: integer(buffer.maxBytes, 'buffer.maxBytes', 1024, defaults.buffer.maxBytes),
      dropPolicy: oneOf<DropPolicy>(
        buffer.dropPolicy,
        'buffer.dropPolicy',
        ['drop-newest', 'drop-oldest'],
        defaults.buffer.dropPolicy,
      ),
    },
    mirrorToStdoutWhenUnavailable: boolean(
      options.mirrorToStdoutWhenUnavailable,
      'mirrorToStdoutWhenUnavailable',
      defaults.mirrorToStdoutWhenUnavailable,
    ),
    warnIntervalMillis: integer(options.warnIntervalMillis, 'warnIntervalMillis', 0, defaults.warnIntervalMillis),
    shutdownTimeoutMillis: integer(
      options.shutdownTimeoutMillis,
      'shutdownTimeoutMillis',
      0,
      defaults.shutdownTimeoutMillis,
    ),
    identityJson: extra.identityJson,
  };
  if (config.maxRecordBytes > config.buffer.maxBytes) {
    throw invalidOption(
      'kafka.maxRecordBytes',
      `at most buffer.maxBytes (${config.buffer.maxBytes})`,
      config.maxRecordBytes,
    );
  }
  return config;
}

/** The options `createLogger` checks beyond the transport's. */
export function validateLoggerOptions(options: unknown): LoggerOptions {
  if (options !== undefined && !isRecord(options)) throw invalidOption('options', 'an object', options);
  const checked = options ?? {};
  for (const field of ['service', 'version', 'env'] as const) optionalString(checked[field], field);
  boolean(checked.handleSignals, 'handleSignals', true);
  boolean(checked.traceContext, 'traceContext', true);
  const pino = optionalObject(checked.pino, 'pino');
  if ('transport' in pino)
    throw invalidOption('pino.transport', "nothing: the Kafka transport is graybridge's", pino.transport);
  return checked;
}
