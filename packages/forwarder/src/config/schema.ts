import { defaultExcludedLabels, defaultSharedKeyPrefix } from '@graybridge/enricher';

// The forwarder's one config schema. Everything else is derived from it: the typed config, the
// `GRAYBRIDGE_*` env names, the CLI flags, validation, the JSON Schema of the Helm chart's values and
// the reference table in docs/configuration.md.

interface FieldBase {
  /** One sentence for the reference and the JSON Schema's description. */
  readonly doc: string;
  /** Never printed: `graybridge config` and errors show "(hidden)". */
  readonly secret?: true;
}

export interface StringField extends FieldBase {
  readonly type: 'string';
  readonly default?: string;
  readonly choices?: readonly string[];
  readonly required?: true;
}

export interface IntegerField extends FieldBase {
  readonly type: 'integer';
  readonly default?: number;
  readonly min: number;
  readonly max: number;
}

export interface BooleanField extends FieldBase {
  readonly type: 'boolean';
  readonly default: boolean;
}

export interface ListField extends FieldBase {
  readonly type: 'list';
  readonly default?: readonly string[];
  readonly required?: true;
}

export type Field = StringField | IntegerField | BooleanField | ListField;

export interface Section {
  readonly [key: string]: Field | Section;
}

type ValueOf<F> = F extends { type: 'string'; choices: readonly (infer C)[] }
  ? C
  : F extends { type: 'string' }
    ? string
    : F extends { type: 'integer' }
      ? number
      : F extends { type: 'boolean' }
        ? boolean
        : F extends { type: 'list' }
          ? readonly string[]
          : never;

/** The typed value of a schema: fields with a default or `required` are always present. */
export type ConfigOf<S> = {
  readonly [K in keyof S]: S[K] extends Field
    ? S[K] extends { default: unknown } | { required: true }
      ? ValueOf<S[K]>
      : ValueOf<S[K]> | undefined
    : ConfigOf<S[K]>;
};

export function isField(node: Field | Section): node is Field {
  return typeof node.type === 'string';
}

const tls = (what: string) =>
  ({
    enabled: { type: 'boolean', default: false, doc: `Use TLS to ${what}.` },
    caFile: { type: 'string', doc: 'PEM CA bundle to trust instead of the system CAs (e.g. a mounted Secret).' },
    certFile: { type: 'string', doc: 'Client certificate (PEM) for mutual TLS; needs keyFile.' },
    keyFile: { type: 'string', doc: 'Client key (PEM) for mutual TLS; needs certFile.' },
    servername: { type: 'string', doc: 'TLS server name (SNI) when it differs from the host.' },
    rejectUnauthorized: {
      type: 'boolean',
      default: true,
      doc: 'Verify the server certificate. Turn off only to debug: it allows interception.',
    },
  }) as const;

export const forwarderConfigSchema = {
  kafka: {
    brokers: { type: 'list', required: true, doc: 'Bootstrap brokers, `host:port`.' },
    topics: {
      type: 'list',
      default: ['logs'],
      doc: 'Topics to consume; `/regex/` subscribes to every matching topic.',
    },
    groupId: { type: 'string', default: 'graybridge-forwarder', doc: 'Consumer group; all forwarders share it.' },
    clientId: { type: 'string', default: 'graybridge-forwarder', doc: 'Kafka client id (broker logs and quotas).' },
    fromBeginning: {
      type: 'boolean',
      default: true,
      doc: 'A new group starts at the oldest retained record (else at the newest).',
    },
    maxBatchRecords: {
      type: 'integer',
      default: 2000,
      min: 1,
      max: 100_000,
      doc: 'Most records handed to the pipeline at once; about 4× this many wait fetched ahead.',
    },
    commitIntervalMillis: {
      type: 'integer',
      default: 500,
      min: 0,
      max: 60_000,
      doc: 'Working off a backlog, delivered offsets are committed at most this often (one request for all partitions); caught up, after every batch. A crash or rebalance redelivers at most about this much of a backlog. 0 = after every batch.',
    },
    sessionTimeoutMillis: {
      type: 'integer',
      default: 30_000,
      min: 6000,
      max: 300_000,
      doc: 'A member silent this long (crashed, killed) loses its partitions to the others.',
    },
    fetchMaxBytesPerPartition: {
      type: 'integer',
      default: 256 * 1024,
      min: 1024,
      max: 64 * 1024 * 1024,
      doc: 'Most bytes fetched per partition in one request.',
    },
    fetchMaxBytes: {
      type: 'integer',
      default: 1024 * 1024,
      min: 1024,
      max: 256 * 1024 * 1024,
      doc: 'Most bytes fetched in one request over all partitions. Compressed: 1 MiB of gzip can hold 50,000 records, so this bounds memory more than maxBatchRecords.',
    },
    tls: tls('reach the brokers'),
    sasl: {
      mechanism: {
        type: 'string',
        default: 'none',
        choices: ['none', 'plain', 'scram-sha-256', 'scram-sha-512'],
        doc: 'SASL mechanism.',
      },
      username: { type: 'string', doc: 'SASL user.' },
      password: { type: 'string', secret: true, doc: 'SASL password; prefer passwordFile or the env variable.' },
      passwordFile: { type: 'string', doc: 'File holding the SASL password (e.g. a mounted Secret).' },
    },
  },
  gelf: {
    transport: { type: 'string', default: 'tcp', choices: ['tcp', 'udp', 'http'], doc: 'How to reach Graylog.' },
    host: { type: 'string', doc: 'Graylog GELF input host (tcp, udp).' },
    port: { type: 'integer', default: 12201, min: 1, max: 65535, doc: 'Graylog GELF input port (tcp, udp).' },
    url: { type: 'string', doc: 'Graylog GELF HTTP input, e.g. `https://graylog:12202/gelf` (http).' },
    tls: tls('reach Graylog (tcp)'),
    connections: {
      type: 'integer',
      default: 2,
      min: 1,
      max: 64,
      doc: 'Persistent TCP connections; batches are spread over them.',
    },
    connectTimeoutMillis: { type: 'integer', default: 5000, min: 100, max: 600_000, doc: 'TCP connect timeout.' },
    writeTimeoutMillis: {
      type: 'integer',
      default: 30_000,
      min: 100,
      max: 600_000,
      doc: 'A TCP write or HTTP request taking longer fails the batch (retried).',
    },
    resendWindowMillis: {
      type: 'integer',
      default: 2000,
      min: 0,
      max: 60_000,
      doc: 'GELF TCP has no acknowledgement: what was written this long before a connection broke is written again (duplicates keep their _event_id). 0 turns it off.',
    },
    udpCompression: {
      type: 'string',
      default: 'gzip',
      choices: ['gzip', 'zlib', 'none'],
      doc: 'UDP payload compression.',
    },
    udpChunkBytes: {
      type: 'integer',
      default: 1420,
      min: 64,
      max: 65_000,
      doc: 'Message bytes per UDP datagram: 1420 suits any network, 8192 a LAN.',
    },
    httpBulk: {
      type: 'boolean',
      default: false,
      doc: "Several messages per request, newline-delimited (the input's `enable_bulk_receiving`).",
    },
    httpGzip: { type: 'boolean', default: true, doc: 'gzip request bodies.' },
    httpMaxBodyBytes: {
      type: 'integer',
      default: 65_536,
      min: 1024,
      max: 100 * 1024 * 1024,
      doc: "The input's `max_chunk_size`, measured after decompression.",
    },
    httpAuthorization: {
      type: 'string',
      secret: true,
      doc: 'Authorization header value, e.g. `Basic …` when a proxy guards the input.',
    },
    maxMessageBytes: {
      type: 'integer',
      default: 1024 * 1024,
      min: 1024,
      max: 100 * 1024 * 1024,
      doc: 'Encoded messages are shrunk to fit this (fields truncated with a marker) or dead-lettered.',
    },
    retryAttempts: {
      type: 'integer',
      default: 5,
      min: 1,
      max: 100,
      doc: 'Tries per batch before the batch is held (records stay in Kafka).',
    },
    retryInitialMillis: { type: 'integer', default: 200, min: 1, max: 600_000, doc: 'First retry backoff.' },
    retryMaxMillis: { type: 'integer', default: 10_000, min: 1, max: 600_000, doc: 'Longest retry backoff.' },
    breakerFailures: {
      type: 'integer',
      default: 5,
      min: 1,
      max: 1000,
      doc: 'Consecutive failed batches that open the circuit (readiness turns false).',
    },
    breakerCooldownMillis: {
      type: 'integer',
      default: 10_000,
      min: 100,
      max: 600_000,
      doc: 'How long an open circuit rests before one trial batch.',
    },
  },
  kubernetes: {
    enabled: { type: 'boolean', default: true, doc: 'Enrich records with pod and namespace metadata.' },
    mode: {
      type: 'string',
      default: 'direct',
      choices: ['direct', 'redis'],
      doc: '`direct`: this process watches pods and namespaces; `redis`: it reads what `graybridge enricher` publishes to `redis.url` (big clusters, see docs/enricher.md).',
    },
    sharedKeyPrefix: {
      type: 'string',
      default: defaultSharedKeyPrefix,
      doc: 'Redis key prefix of the shared metadata (the same for `graybridge enricher` and its readers).',
    },
    sharedCacheEntries: {
      type: 'integer',
      default: 10_000,
      min: 100,
      max: 10_000_000,
      doc: 'Mode `redis`: entries of the local LRU in front of Redis (a pod takes one per name its records give it).',
    },
    kubeconfig: {
      type: 'string',
      doc: 'kubeconfig file; default: the in-cluster service account, else KUBECONFIG or ~/.kube/config.',
    },
    labelsInclude: { type: 'list', default: ['*'], doc: 'Pod and namespace labels to attach: keys or `prefix*`.' },
    labelsExclude: {
      type: 'list',
      default: defaultExcludedLabels,
      doc: 'Labels never attached (hashes and uids that only add cardinality).',
    },
    annotationsInclude: {
      type: 'list',
      default: [],
      doc: 'Pod annotations to attach (allowlist): keys or `prefix*`.',
    },
    namespaceLabels: { type: 'boolean', default: true, doc: 'Watch namespaces and attach their labels.' },
    resolveOwners: {
      type: 'boolean',
      default: true,
      doc: 'Resolve ReplicaSet → Deployment and Job → CronJob (needs get on replicasets and jobs).',
    },
    deletedPodRetentionMillis: {
      type: 'integer',
      default: 60_000,
      min: 0,
      max: 86_400_000,
      doc: 'How long a deleted pod stays resolvable (its last records arrive late).',
    },
    syncTimeoutMillis: {
      type: 'integer',
      default: 30_000,
      min: 0,
      max: 600_000,
      doc: 'At start, wait this long for the first full pod list before consuming.',
    },
  },
  redis: {
    url: {
      type: 'string',
      secret: true,
      doc: 'Redis for the dead-letter queue and shared metadata: `redis://[:password@]host:port[/db]` (`rediss://` for TLS). Unset: dead letters are logged and counted only.',
    },
  },
  deadLetters: {
    queue: { type: 'string', default: 'graybridge-dead-letters', doc: 'BullMQ queue name of the dead letters.' },
    maxEntries: {
      type: 'integer',
      default: 100_000,
      min: 1,
      max: 100_000_000,
      doc: 'Beyond this many dead letters the oldest are evicted (counted in graybridge_dead_letters_evicted_total).',
    },
    maxAgeMillis: {
      type: 'integer',
      default: 7 * 86_400_000,
      min: 60_000,
      max: 365 * 86_400_000,
      doc: 'Dead letters older than this are evicted (counted).',
    },
    decodeErrors: {
      type: 'boolean',
      default: false,
      doc: 'Dead-letter records that cannot be decoded instead of sending them with `_decode_error`.',
    },
  },
  replay: {
    enabled: {
      type: 'boolean',
      default: true,
      doc: 'Run replay jobs (`graybridge replay`) in this forwarder when Redis is configured.',
    },
    concurrency: {
      type: 'integer',
      default: 1,
      min: 1,
      max: 16,
      doc: 'Replay jobs run at the same time by this forwarder.',
    },
    lockMillis: {
      type: 'integer',
      default: 30_000,
      min: 1000,
      max: 600_000,
      doc: 'A forwarder silent this long loses its replay job to another, which resumes from the last checkpoint.',
    },
  },
  decode: {
    maxRecordBytes: {
      type: 'integer',
      default: 4 * 1024 * 1024,
      min: 1024,
      max: 100 * 1024 * 1024,
      doc: 'Larger records are not parsed: their start is kept as text with `_decode_error=too_large`.',
    },
  },
  ops: {
    port: { type: 'integer', default: 9464, min: 0, max: 65535, doc: 'Admin port: /metrics, /healthz, /readyz.' },
    host: { type: 'string', default: '0.0.0.0', doc: 'Admin address (probes come from the kubelet).' },
    lagIntervalMillis: {
      type: 'integer',
      default: 10_000,
      min: 100,
      max: 600_000,
      doc: 'How often consumer lag is read from the brokers.',
    },
    drainTimeoutMillis: {
      type: 'integer',
      default: 20_000,
      min: 0,
      max: 600_000,
      doc: 'On SIGTERM, time to finish and commit in-flight batches (keep below terminationGracePeriodSeconds).',
    },
    logLevel: {
      type: 'string',
      default: 'info',
      choices: ['debug', 'info', 'warn', 'error'],
      doc: "The forwarder's own log level (JSON on stdout).",
    },
  },
} as const satisfies Section;

export type ForwarderConfig = ConfigOf<typeof forwarderConfigSchema>;
