// What the forwarder benchmarks share: the corpus, the pods it names, the GELF endpoint that
// counts, and how a `graybridge forward` process is started and measured.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { loadPods } from './cluster.js';
import { textOption } from './report.js';

export const cli = fileURLToPath(new URL('../../packages/forwarder/dist/src/cli/main.js', import.meta.url));

/** The chart's default `nodeArgs` (V8 heap flags): the benchmarks run the forwarder as deployed. */
export const chartNodeArgs: readonly string[] =
  (
    parse(readFileSync(new URL('../../charts/graybridge/values.yaml', import.meta.url), 'utf8')) as {
      nodeArgs?: string[];
    }
  ).nodeArgs ?? [];
/** The corpus's records come from this many pods of this namespace. */
export const pods = 16;
export const namespace = 'bench';

/**
 * The corpus's record sizes: `--record-bytes MIN-MAX` (default 200–4096, the realistic
 * range), log-uniform between them, so that most records are short and a few carry a stack trace.
 */
export const recordBytes: { readonly min: number; readonly max: number } = (() => {
  const text = textOption('record-bytes', '200-4096');
  const [min, max] = text.split('-').map(Number);
  if (min === undefined || max === undefined || !(min >= 160 && max >= min))
    throw new Error(`--record-bytes: expected MIN-MAX with 160 ≤ MIN ≤ MAX, got '${text}'`);
  return { min, max };
})();

/** The size of record `seq`: fixed per seq (a hash, not a random draw), log-uniform over `recordBytes`. */
function sizeOf(seq: number): number {
  // Knuth's multiplicative hash spreads consecutive seqs over [0, 1).
  const unit = (Math.imul(seq + 1, 2654435761) >>> 0) / 2 ** 32;
  return Math.round(recordBytes.min * (recordBytes.max / recordBytes.min) ** unit);
}

const stackFrames = [
  'Error: upstream request failed: connect ETIMEDOUT 10.1.7.23:8443',
  '    at TLSSocket.onConnectTimeout (node:_tls_wrap:1600:19)',
  '    at OrdersClient.fetchItems (/app/src/clients/orders.js:118:23)',
  '    at async OrderService.expand (/app/src/services/order-service.js:64:19)',
  '    at async Promise.all (index 3)',
  '    at async handler (/app/src/routes/orders.js:42:13)',
  '    at async Router.dispatch (/app/node_modules/router/lib/layer.js:152:5)',
];

/**
 * Text whose JSON string encoding is exactly `bytes` long (without its quotes): a few words, or a
 * stack trace when there is room for one.
 */
function filler(bytes: number): string {
  if (bytes < 200) return 'cache entry refreshed from origin; '.repeat(Math.ceil(bytes / 35)).slice(0, bytes);
  let text = '';
  let encoded = 0;
  for (let line = 0; encoded < bytes; line += 1) {
    const next = (line === 0 ? '' : '\n') + (stackFrames[line % stackFrames.length] ?? '');
    const cost = next.length + (line === 0 ? 0 : 1); // "\n" is two bytes in JSON
    if (encoded + cost > bytes) return text + ' '.repeat(bytes - encoded);
    text += next;
    encoded += cost;
  }
  return text;
}

/**
 * Record `seq` of the corpus, as the SDK writes it, with the pod identity: a request log (or, below
 * ~400 bytes, a short event) whose `detail` field makes it exactly `sizeOf(seq)` bytes of JSON.
 */
export function record(seq: number): { key: string; value: string; headers: Record<string, string> } {
  const pod = `api-${seq % pods}`;
  const size = sizeOf(seq);
  const common = {
    level: 30,
    time: Date.now(),
    pid: 7,
    k8s: { pod, namespace, container: 'app', node: 'node-a' },
    service: 'api',
  };
  const request = {
    ...common,
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    req: { method: 'GET', url: `/v1/orders/${seq}?expand=items`, remoteAddress: '10.1.2.3', userAgent: 'curl/8.5' },
    res: { statusCode: 200 },
    responseTime: seq % 250,
    msg: `request completed: GET /v1/orders/${seq}`,
  };
  const shape =
    JSON.stringify({ ...request, detail: '' }).length <= size ? request : { ...common, msg: `cache hit ${seq}` };
  const bare = JSON.stringify({ ...shape, detail: '' }).length;
  return {
    key: `${namespace}/${pod}`,
    value: JSON.stringify({ ...shape, detail: filler(Math.max(0, size - bare)) }),
    headers: { 'graybridge-schema': '1' },
  };
}

/** The mean size of the corpus's first `count` records, in bytes (for MiB/s). */
export function meanRecordBytes(count: number): number {
  let total = 0;
  for (let seq = 0; seq < count; seq += 1) total += sizeOf(seq);
  return total / count;
}

/** The corpus's first `count` records' sizes in words, for logs and reports. */
export function describeCorpus(count: number): string {
  const sizes = Array.from({ length: count }, (_, seq) => sizeOf(seq)).sort((a, b) => a - b);
  const mean = sizes.reduce((sum, size) => sum + size, 0) / count;
  const words = (bytes: number): string => Math.round(bytes).toLocaleString('en-US');
  return `${words(recordBytes.min)}–${words(recordBytes.max)} bytes (log-uniform: median ${words(sizes[Math.floor(count / 2)] ?? Number.NaN)}, mean ${words(mean)})`;
}

/**
 * The corpus's pods, and `backgroundPods` more (see cluster.ts) so that the forwarder's watch
 * cache is the size of a big cluster's.
 */
export async function createPods(kubeconfig: string, backgroundPods: number): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { team: 'bench' } } } });
  for (let i = 0; i < pods; i += 1) {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: `api-${i}`, labels: { app: 'api', tier: 'backend' } },
        spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'registry.example.com/api:2.0.0' }] },
      },
    });
  }
  await loadPods(kubeconfig, backgroundPods);
}

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU seconds (user + system) and peak RSS (VmHWM) of a running process, from /proc. */
export function usage(pid: number): { cpuSeconds: number; peakRssMiB: number; rssMiB: number } {
  // Fields after the command name (which may hold spaces) in /proc/<pid>/stat: utime is the 12th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / clockTicks;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { cpuSeconds, peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A GELF TCP endpoint that only counts frames: the receiving side must not be the bottleneck. */
export async function countingEndpoint(): Promise<{
  server: Server;
  port: number;
  count: () => number;
  first: () => string;
}> {
  let frames = 0;
  let first = '';
  const server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      if (first === '') first = chunk.subarray(0, Math.max(0, chunk.indexOf(0))).toString();
      for (let at = chunk.indexOf(0); at >= 0; at = chunk.indexOf(0, at + 1)) frames += 1;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, count: () => frames, first: () => first };
}

/** A `graybridge forward` process reading `topic` as `group` into a GELF TCP endpoint on `port`. */
export function spawnForwarder(options: {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly group: string;
  readonly gelfPort: number;
  readonly kubeconfig: string;
  /** The admin port (/metrics); any free one when left out. */
  readonly opsPort?: number;
  /** Node's flags. @defaultValue the chart's `nodeArgs` */
  readonly nodeArgs?: readonly string[];
}): ChildProcess & { stdout: NodeJS.ReadableStream } {
  return spawn(process.execPath, [...(options.nodeArgs ?? chartNodeArgs), cli, 'forward'], {
    env: {
      PATH: process.env.PATH ?? '',
      GRAYBRIDGE_KAFKA_BROKERS: options.brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPICS: options.topic,
      GRAYBRIDGE_KAFKA_GROUP_ID: options.group,
      GRAYBRIDGE_GELF_HOST: '127.0.0.1',
      GRAYBRIDGE_GELF_PORT: String(options.gelfPort),
      GRAYBRIDGE_KUBERNETES_KUBECONFIG: options.kubeconfig,
      GRAYBRIDGE_OPS_PORT: String(options.opsPort ?? 0),
      GRAYBRIDGE_OPS_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/**
 * An app (an ES module `script`) logging through @graybridge/log-sdk as pod api-0 of the corpus's
 * namespace, to `topic` (its `process.env.APP_TOPIC`), with `nodeOptions` as its NODE_OPTIONS.
 */
export function spawnApp(
  script: string,
  brokers: readonly string[],
  topic: string,
  stdout: 'ignore' | 'pipe',
  nodeOptions = '',
): ChildProcess & { stdout: NodeJS.ReadableStream | null } {
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: nodeOptions,
      GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
      APP_TOPIC: topic,
      POD_NAME: 'api-0',
      POD_NAMESPACE: namespace,
    },
    stdio: ['ignore', stdout, 'inherit'],
  });
}

/** Resolves when the forwarder logs that it is forwarding (its group joined, its first fetch next). */
export function forwarding(child: ChildProcess & { stdout: NodeJS.ReadableStream }): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`graybridge forward exited with ${code} before forwarding`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('"msg":"forwarding"')) resolve();
    });
  });
}
