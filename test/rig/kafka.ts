import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { installScript } from './paths.js';
import {
  freePort,
  runInstallScript,
  startService,
  stopService,
  waitUntilReady,
  type ServiceProcess,
} from './process.js';
import { makeServerCertificate } from './tls.js';

/** Credentials and trust for the TLS + SASL listener of a secured broker. */
export interface KafkaSecureListener {
  readonly brokers: readonly string[];
  /** PEM of the CA that signed the broker's certificate. */
  readonly caFile: string;
  readonly username: string;
  readonly password: string;
  /** Mechanisms the listener accepts for `username`. */
  readonly mechanisms: readonly ('plain' | 'scram-sha-256' | 'scram-sha-512')[];
}

export interface KafkaEndpoint {
  /** PLAINTEXT listener, host:port. */
  readonly brokers: readonly string[];
  readonly version: string;
  readonly secure?: KafkaSecureListener;
}

export interface KafkaStartOptions {
  readonly dir: string;
  readonly ownerPid?: number;
  /** Adds a SASL_SSL listener (PLAIN and SCRAM-SHA-256/512) beside the PLAINTEXT one. */
  readonly secure?: boolean;
  readonly readyTimeoutMillis?: number;
  /**
   * Fixed ports, e.g. to start a broker where a client already points (an outage test) or to
   * restart one on its old address. A `dir` that holds a formatted log keeps its data.
   */
  readonly ports?: { readonly plain: number; readonly controller: number };
}

const heapOptions = ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-XX:TieredStopAtLevel=1'];

function kafkaVersion(libs: string): string {
  const match = /\/kafka\/([^/]+)\/libs[^/]*$/.exec(libs);
  return match?.[1] ?? 'unknown';
}

/**
 * Starts a single-node KRaft broker+controller from the cached Maven jars and waits until a
 * metadata request succeeds.
 */
export async function startKafka(
  options: KafkaStartOptions,
): Promise<{ endpoint: KafkaEndpoint; process: ServiceProcess }> {
  const libs = runInstallScript(installScript('kafka')).split('\n').at(-1) ?? '';
  const dir = options.dir;
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = options.ports?.plain ?? (await freePort());
  const controllerPort = options.ports?.controller ?? (await freePort());
  const secure = options.secure === true ? await secureListenerSetup(dir) : undefined;

  const listeners = [`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`];
  const advertised = [...listeners];
  if (secure) {
    listeners.push(`SASL_SSL://127.0.0.1:${secure.port}`);
    advertised.push(`SASL_SSL://127.0.0.1:${secure.port}`);
  }
  const properties = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests join groups constantly; the default 3 s delay would only slow them down.
    'group.initial.rebalance.delay.ms=0',
    ...(secure?.properties ?? []),
  ];
  const propertiesFile = join(dir, 'server.properties');
  writeFileSync(propertiesFile, properties.join('\n') + '\n');
  const log4jFile = join(dir, 'log4j2.properties');
  writeFileSync(
    log4jFile,
    [
      'appender.out.type=Console',
      'appender.out.name=STDOUT',
      'appender.out.layout.type=PatternLayout',
      'appender.out.layout.pattern=[%d] %p %m (%c)%n',
      'rootLogger.level=INFO',
      'rootLogger.appenderRef.out.ref=STDOUT',
      'logger.kafka.name=kafka',
      'logger.kafka.level=WARN',
      'logger.state.name=state.change.logger',
      'logger.state.level=WARN',
    ].join('\n') + '\n',
  );
  const classpath = `${libs}/*`;
  const java = ['-Dlog4j2.configurationFile=' + log4jFile, ...heapOptions, '-cp', classpath];

  if (!existsSync(join(dir, 'data', 'meta.properties'))) {
    // A cluster id is 16 random bytes, base64url: no need to start a JVM for `random-uuid`.
    const clusterId = randomBytes(16).toString('base64url');
    // `--cluster-id=…` in one argument: an id starting with "-" would otherwise be read as an option.
    const format = [
      'kafka.tools.StorageTool',
      'format',
      '--standalone',
      `--cluster-id=${clusterId}`,
      '-c',
      propertiesFile,
    ];
    for (const scram of secure?.scramCredentials ?? []) format.push('--add-scram', scram);
    execFileSync('java', [...java, ...format], { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  const service = startService({
    name: 'kafka',
    command: 'java',
    args: [...java, 'kafka.Kafka', propertiesFile],
    logFile: join(dir, 'kafka.log'),
    ...(options.ownerPid === undefined ? {} : { ownerPid: options.ownerPid }),
  });
  const brokers = [`127.0.0.1:${port}`];
  await waitUntilReady(service, () => metadataAnswers(brokers), options.readyTimeoutMillis ?? 90_000);
  const endpoint: KafkaEndpoint = {
    brokers,
    version: kafkaVersion(libs),
    ...(secure ? { secure: secure.listener } : {}),
  };
  return { endpoint, process: service };
}

/** Readiness: the broker answers a metadata request and reports itself as a live broker. */
async function metadataAnswers(brokers: readonly string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'graybridge-rig-probe',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Creates `topics` (each with `partitions`) and resolves once every partition has a leader.
 * kafkajs, not the forwarder's @platformatic/kafka: the rig also runs under the SDK's tests on
 * Node 20, which @platformatic/kafka does not support.
 */
export async function createTopics(
  brokers: readonly string[],
  topics: readonly string[],
  partitions: number,
): Promise<void> {
  const admin = new Kafka({ clientId: 'graybridge-rig', brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: partitions })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

async function secureListenerSetup(dir: string): Promise<{
  port: number;
  properties: string[];
  scramCredentials: string[];
  listener: KafkaSecureListener;
}> {
  const tlsDir = join(dir, 'tls');
  mkdirSync(tlsDir, { recursive: true });
  const certificate = makeServerCertificate(tlsDir, 'kafka');
  // Kafka's PEM keystore wants the private key and the certificate chain in one file.
  const keystore = join(tlsDir, 'kafka-keystore.pem');
  writeFileSync(keystore, readFileSync(certificate.key, 'utf8') + readFileSync(certificate.cert, 'utf8'));
  const port = await freePort();
  const username = 'graybridge';
  const password = randomBytes(12).toString('hex');
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return {
    port,
    properties: [
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${password}";`,
      `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scram}`,
      `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scram}`,
      'listener.name.sasl_ssl.ssl.keystore.type=PEM',
      `listener.name.sasl_ssl.ssl.keystore.location=${keystore}`,
    ],
    scramCredentials: [
      `SCRAM-SHA-256=[name=${username},password=${password}]`,
      `SCRAM-SHA-512=[name=${username},password=${password}]`,
    ],
    listener: {
      brokers: [`127.0.0.1:${port}`],
      caFile: certificate.caCert,
      username,
      password,
      mechanisms: ['plain', 'scram-sha-256', 'scram-sha-512'],
    },
  };
}

/**
 * A broker of a test's own, on ports chosen before it exists, so that it can be down at a
 * client's start, killed, and started again on the same address with its data.
 */
export class RestartableKafka {
  readonly dir = mkdtempSync(join(tmpdir(), 'kafka-own-'));
  process: ServiceProcess | undefined;
  private constructor(
    readonly ports: { readonly plain: number; readonly controller: number },
    private readonly ownerPid: number | undefined,
  ) {}

  static async reserve(options: { ownerPid?: number } = {}): Promise<RestartableKafka> {
    return new RestartableKafka({ plain: await freePort(), controller: await freePort() }, options.ownerPid);
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.ports.plain}`];
  }

  async start(): Promise<void> {
    const started = await startKafka({
      dir: this.dir,
      ports: this.ports,
      ...(this.ownerPid === undefined ? {} : { ownerPid: this.ownerPid }),
    });
    this.process = started.process;
  }

  /** SIGKILL: no clean shutdown, as when a broker's node dies. */
  async kill(): Promise<void> {
    if (this.process) process.kill(this.process.pid, 'SIGKILL');
    if (this.process) await stopService(this.process.pid, 0);
    this.process = undefined;
  }

  /** SIGTERM and wait: a clean shutdown, as in a rolling restart. */
  async stop(): Promise<void> {
    if (this.process) await stopService(this.process.pid);
    this.process = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
