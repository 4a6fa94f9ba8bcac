import { lookup } from 'node:dns/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { checkApiAccess } from '@graybridge/enricher';
import { Redis } from 'ioredis';
import { Admin } from '@platformatic/kafka';
import { kafkaConnectionOf, tlsMaterial, topicPattern } from '../config/files.js';
import { loadConfig } from '../config/load.js';
import { takeFlags } from './args.js';
import type { ForwarderConfig } from '../config/schema.js';
import { encodeGelf } from '../encode/gelf.js';
import { createTransportSink } from '../sink/from-config.js';
import { clientOptions, explainKafkaError } from '../source/kafka-client.js';

interface Row {
  readonly check: string;
  readonly target: string;
  readonly ok: boolean;
  readonly detail: string;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function checkKafka(kafka: ForwarderConfig['kafka']): Promise<Row[]> {
  const target = kafka.brokers.join(',');
  const { sasl } = kafka;
  // The same client and connection settings as `graybridge forward`, so it meets the same problems.
  const connection = kafkaConnectionOf(kafka, `${kafka.clientId}-doctor`);
  const tls = connection.tls;
  const admin = new Admin({
    ...clientOptions(connection, 1),
    connectTimeout: 5000,
  });
  try {
    const existing = await admin.listTopics();
    const cluster = await admin.metadata({ topics: [] });
    const rows: Row[] = [
      {
        check: 'kafka',
        target,
        ok: true,
        detail: `${cluster.brokers.size} broker(s), cluster ${cluster.id}${sasl.mechanism === 'none' ? '' : `, SASL ${sasl.mechanism} as ${sasl.username ?? ''}`}${tls === undefined ? '' : ', TLS'}`,
      },
    ];
    for (const topic of kafka.topics) {
      const pattern = topicPattern(topic);
      if (pattern !== undefined) {
        const matches = existing.filter((name) => pattern.test(name));
        rows.push({
          check: 'kafka topic',
          target: topic,
          ok: matches.length > 0,
          detail: matches.length > 0 ? `matches ${matches.join(', ')}` : 'no topic matches (yet)',
        });
      } else if (!existing.includes(topic)) {
        rows.push({
          check: 'kafka topic',
          target: topic,
          ok: false,
          detail: 'does not exist (the forwarder does not create topics)',
        });
      } else {
        const metadata = await admin.metadata({ topics: [topic] });
        rows.push({
          check: 'kafka topic',
          target: topic,
          ok: true,
          detail: `${metadata.topics.get(topic)?.partitionsCount ?? 0} partition(s)`,
        });
      }
    }
    const group = (await admin.describeGroups({ groups: [kafka.groupId] })).get(kafka.groupId);
    rows.push({
      check: 'kafka group',
      target: kafka.groupId,
      ok: true,
      detail:
        group === undefined || group.members.size === 0
          ? 'no members yet'
          : `${group.state}, ${group.members.size} member(s)`,
    });
    return rows;
  } catch (error) {
    return [{ check: 'kafka', target, ok: false, detail: explainKafkaError(error) }];
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Opens a TCP (or TLS) connection the way the sink would, and says what it found. */
function probeConnection(
  host: string,
  port: number,
  tls: ReturnType<typeof tlsMaterial>,
  timeoutMillis: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket: Socket | TLSSocket =
      tls === undefined
        ? connectTcp({ host, port })
        : connectTls({ host, port, ...tls, servername: tls.servername ?? host });
    socket.setTimeout(timeoutMillis, () => socket.destroy(new Error(`no connection within ${timeoutMillis} ms`)));
    socket.once('error', reject);
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      const elapsed = Date.now() - started;
      let detail = `connected in ${elapsed} ms`;
      if ('getPeerCertificate' in socket) {
        const cert = socket.getPeerCertificate();
        detail += `, TLS ${socket.getProtocol() ?? ''} verified, certificate ${String(cert.subject.CN)} valid until ${cert.valid_to}`;
      }
      socket.end();
      resolve(detail);
    });
  });
}

async function checkGelf(gelf: ForwarderConfig['gelf'], sendTest: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const target =
    gelf.transport === 'http' ? (gelf.url ?? '') : `gelf-${gelf.transport}://${gelf.host ?? ''}:${gelf.port}`;
  try {
    if (gelf.transport === 'udp') {
      const address = await lookup(gelf.host ?? '');
      rows.push({
        check: 'gelf',
        target,
        ok: true,
        detail: `resolves to ${address.address}; UDP has no handshake (use --send-test-message)`,
      });
    } else if (gelf.transport === 'tcp') {
      const tls = tlsMaterial(gelf.tls, 'gelf.tls');
      rows.push({
        check: 'gelf',
        target,
        ok: true,
        detail: await probeConnection(gelf.host ?? '', gelf.port, tls, gelf.connectTimeoutMillis),
      });
    } else {
      const url = new URL(gelf.url ?? '');
      const https = url.protocol === 'https:';
      const port = Number(url.port === '' ? (https ? 443 : 80) : url.port);
      const tls = https ? { rejectUnauthorized: true } : undefined;
      rows.push({
        check: 'gelf',
        target,
        ok: true,
        detail: await probeConnection(url.hostname, port, tls, gelf.connectTimeoutMillis),
      });
    }
  } catch (error) {
    rows.push({ check: 'gelf', target, ok: false, detail: message(error) });
    return rows;
  }
  if (sendTest) {
    const encoded = encodeGelf({
      host: 'graybridge-doctor',
      message: 'graybridge doctor test message',
      timestampMillis: Date.now(),
      level: 6,
      own: { graybridge_doctor: 'true' },
      fields: {},
    });
    const sink = createTransportSink(gelf);
    const outcome = encoded.ok ? await sink.send([{ json: encoded.json }]) : undefined;
    await sink.close();
    rows.push({
      check: 'gelf test message',
      target,
      ok: outcome?.kind === 'sent',
      detail:
        outcome?.kind === 'sent'
          ? 'sent (search Graylog for graybridge_doctor:true)'
          : (outcome?.error.message ?? 'could not encode'),
    });
  }
  return rows;
}

async function checkKubernetes(kubernetes: ForwarderConfig['kubernetes']): Promise<Row[]> {
  if (!kubernetes.enabled) return [{ check: 'kubernetes', target: '-', ok: true, detail: 'enrichment disabled' }];
  if (kubernetes.mode === 'redis') return []; // no API access: the Redis check looks for the publisher
  try {
    const report = await checkApiAccess(
      kubernetes.kubeconfig === undefined
        ? { resolveOwners: kubernetes.resolveOwners }
        : { kubeconfig: kubernetes.kubeconfig, resolveOwners: kubernetes.resolveOwners },
    );
    const rows: Row[] = [
      { check: 'kubernetes', target: report.server, ok: true, detail: `API server ${report.version}` },
    ];
    rows.push({
      check: 'kubernetes rbac',
      target: report.server,
      ok: report.missing.length === 0,
      detail:
        report.missing.length === 0
          ? 'may get/list/watch pods and namespaces, get replicasets and jobs'
          : `missing: ${report.missing.join(', ')} (see the chart's ClusterRole)`,
    });
    return rows;
  } catch (error) {
    return [
      {
        check: 'kubernetes',
        target: kubernetes.kubeconfig ?? '(in-cluster / default)',
        ok: false,
        detail: message(error),
      },
    ];
  }
}

async function checkRedis(config: ForwarderConfig): Promise<Row[]> {
  if (config.redis.url === undefined)
    return [{ check: 'redis', target: '-', ok: true, detail: 'not configured: dead letters are logged only' }];
  const url = new URL(config.redis.url);
  const target = `${url.protocol}//${url.host}`;
  const redis = new Redis(config.redis.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 5000,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    const depth = await redis.llen(`bull:${config.deadLetters.queue}:wait`);
    const { kubernetes } = config;
    const shared: Row[] =
      kubernetes.enabled && kubernetes.mode === 'redis'
        ? [
            (await redis.exists(`${kubernetes.sharedKeyPrefix}publisher`)) === 1
              ? {
                  check: 'kubernetes (shared)',
                  target,
                  ok: true,
                  detail: 'a synced `graybridge enricher` publishes here',
                }
              : {
                  check: 'kubernetes (shared)',
                  target,
                  ok: false,
                  detail: `no live publisher under ${kubernetes.sharedKeyPrefix}: run \`graybridge enricher\` (chart: sharedEnricher.enabled)`,
                },
          ]
        : [];
    return [
      ...shared,
      {
        check: 'redis',
        target,
        ok: policy === 'noeviction',
        detail:
          policy === 'noeviction'
            ? `Redis ${version}, ${depth} dead letter(s) in ${config.deadLetters.queue}`
            : `maxmemory-policy is ${policy}: BullMQ needs noeviction (Redis could drop dead letters)`,
      },
    ];
  } catch (error) {
    return [{ check: 'redis', target, ok: false, detail: message(error) }];
  } finally {
    redis.disconnect();
  }
}

function table(rows: readonly Row[]): string {
  const header = { check: 'CHECK', target: 'TARGET', status: 'STATUS', detail: 'DETAIL' };
  const lines = rows.map((r) => ({ check: r.check, target: r.target, status: r.ok ? 'ok' : 'FAIL', detail: r.detail }));
  const width = (key: 'check' | 'target' | 'status') => Math.max(...[header, ...lines].map((l) => l[key].length));
  const format = (l: typeof header) =>
    `${l.check.padEnd(width('check'))}  ${l.target.padEnd(width('target'))}  ${l.status.padEnd(width('status'))}  ${l.detail}`;
  return [header, ...lines].map(format).join('\n');
}

/** `graybridge doctor`: every dependency checked with the forwarder's own config; exit 1 if one fails. */
export async function doctor(argv: string[]): Promise<number> {
  const { flags, rest } = takeFlags(argv, [], ['send-test-message']);
  const { config } = loadConfig({ argv: rest });
  const sendTest = flags['send-test-message'];
  const rows = (
    await Promise.all([
      checkKafka(config.kafka),
      checkGelf(config.gelf, sendTest),
      checkKubernetes(config.kubernetes),
      checkRedis(config),
    ])
  ).flat();
  console.log(table(rows));
  const failed = rows.filter((row) => !row.ok).length;
  console.log(failed === 0 ? '\nall checks passed' : `\n${failed} check(s) failed`);
  return failed === 0 ? 0 : 1;
}
