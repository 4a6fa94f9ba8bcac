// Where the API server is and how to authenticate to it, from a kubeconfig file or the pod's
// service account — read here, without @kubernetes/client-node, whose index loads every generated
// API class (~50 MiB of RSS per process; docs/benchmarks.md). The client is loaded only for what
// only it can do: exec and auth-provider credentials, proxies, merged KUBECONFIG lists, or a
// KubeConfig an application hands over.
import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { invalidOption } from './errors.js';

/** How to reach one API server. */
export interface ClusterAccess {
  /** e.g. `https://10.96.0.1:443` */
  readonly server: string;
  /** Where it came from, for messages: a file, `in-cluster`, or `KubeConfig`. */
  readonly source: string;
  /** TLS and Authorization for the next request (a token file is re-read: bound tokens rotate). */
  requestOptions(): Promise<RequestOptions>;
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Bound service-account tokens are rotated by the kubelet well within an hour: re-read each minute. */
const tokenFileMaxAgeMillis = 60_000;

type Env = Readonly<Record<string, string | undefined>>;

function isKubeConfig(value: unknown): value is KubeConfig {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<KubeConfig>).applyToHTTPSOptions === 'function' &&
    typeof (value as Partial<KubeConfig>).getCurrentCluster === 'function'
  );
}

/**
 * A kubeconfig file path, a client-node `KubeConfig`, or (undefined) the default: `KUBECONFIG`,
 * then `~/.kube/config`, then the in-cluster service account — client-node's order.
 */
export function clusterAccessFrom(
  value: unknown,
  env: Env = process.env,
  serviceAccount = serviceAccountDir,
): ClusterAccess {
  if (isKubeConfig(value)) {
    const server = value.getCurrentCluster()?.server;
    if (server === undefined) throw invalidOption('kubeconfig', 'a KubeConfig with a current cluster', 'none');
    return clientNodeAccess(server, 'KubeConfig', () => Promise.resolve(value));
  }
  if (typeof value === 'string') return fromFiles([value]);
  if (value !== undefined) throw invalidOption('kubeconfig', 'a KubeConfig or a file path', value);
  const listed = env.KUBECONFIG?.split(':').filter((path) => path !== '') ?? [];
  if (listed.length > 0) return fromFiles(listed);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return fromFiles([home]);
  if (env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(join(serviceAccount, 'token'))) {
    return inCluster(env, serviceAccount);
  }
  throw invalidOption(
    'kubeconfig',
    'a kubeconfig with a current cluster (KUBECONFIG, ~/.kube/config or in-cluster)',
    'none',
  );
}

function inCluster(env: Env, serviceAccount: string): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const ca = readFileSync(join(serviceAccount, 'ca.crt'));
  const token = tokenFile(join(serviceAccount, 'token'));
  return {
    server,
    source: 'in-cluster service account',
    requestOptions: () => Promise.resolve({ ca, headers: { Authorization: `Bearer ${token()}` } }),
  };
}

/** A token file's content, re-read once it is a minute old. */
function tokenFile(path: string): () => string {
  let token = '';
  let readAt = 0;
  return () => {
    if (Date.now() - readAt >= tokenFileMaxAgeMillis) {
      token = readFileSync(path, 'utf8').trim();
      readAt = Date.now();
    }
    return token;
  };
}

type Yaml = Record<string, unknown>;

const asRecord = (value: unknown): Yaml =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Yaml) : {};

function named(list: unknown, name: unknown, key: string): Yaml | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = list.map(asRecord).find((e) => e.name === name);
  return entry === undefined ? undefined : asRecord(entry[key]);
}

/** Paths a kubeconfig names, made absolute against the file that names them (so that files can merge). */
const pathKeys = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile'];

function absolutePaths(entries: unknown, key: string, base: string): Yaml[] {
  if (!Array.isArray(entries)) return [];
  return entries.map((entry: unknown) => {
    const fields = asRecord(asRecord(entry)[key]);
    for (const pathKey of pathKeys) {
      const value = fields[pathKey];
      if (typeof value === 'string' && value !== '' && !isAbsolute(value)) fields[pathKey] = join(base, value);
    }
    return asRecord(entry);
  });
}

/**
 * One kubeconfig from a list of files, merged as kubectl merges KUBECONFIG: the first file to set
 * `current-context` wins, and so does the first definition of each named cluster, user and context.
 * Missing files in a list are skipped; a single named file must exist.
 */
function readKubeconfig(paths: readonly string[]): Yaml {
  const merged: Yaml = { clusters: [], users: [], contexts: [] };
  const existing = paths.length === 1 ? paths : paths.filter((path) => existsSync(path));
  if (existing.length === 0) {
    throw invalidOption('kubeconfig', 'a readable kubeconfig file', `KUBECONFIG=${paths.join(':')} (none exists)`);
  }
  for (const path of existing) {
    let document: Yaml;
    try {
      document = asRecord(parseYaml(readFileSync(path, 'utf8')));
    } catch (error) {
      throw invalidOption('kubeconfig', 'a readable kubeconfig file', `${path} (${(error as Error).message})`);
    }
    const base = dirname(path);
    if (typeof document['current-context'] === 'string' && document['current-context'] !== '') {
      merged['current-context'] ??= document['current-context'];
    }
    for (const [list, key] of [
      ['clusters', 'cluster'],
      ['users', 'user'],
      ['contexts', 'context'],
    ] as const) {
      const known = merged[list] as Yaml[];
      for (const entry of absolutePaths(document[list], key, base)) {
        if (!known.some((k) => k.name === entry.name)) known.push(entry);
      }
    }
  }
  return merged;
}

function fromFiles(paths: readonly string[]): ClusterAccess {
  const path = paths.join(':');
  const document = readKubeconfig(paths);
  const context = named(document.contexts, document['current-context'], 'context');
  const cluster = named(document.clusters, context?.cluster, 'cluster');
  const user = named(document.users, context?.user, 'user') ?? {};
  const server = cluster?.server;
  if (typeof server !== 'string' || server === '') {
    throw invalidOption('kubeconfig', `a kubeconfig whose current context names a cluster with a server`, path);
  }
  if (
    user.exec !== undefined ||
    user['auth-provider'] !== undefined ||
    user.as !== undefined ||
    cluster?.['proxy-url'] !== undefined
  ) {
    // Plugins, impersonation and proxies: client-node, given the document as read and merged here.
    return clientNodeAccess(server, path, async () => {
      const config = new (await import('@kubernetes/client-node')).KubeConfig();
      config.loadFromString(JSON.stringify(document));
      return config;
    });
  }
  /** Inline base64 data, else a file, else nothing. */
  const material = (dataKey: string, fileKey: string, from: Yaml): Buffer | undefined => {
    const data = from[dataKey];
    if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
    const file = from[fileKey];
    if (typeof file === 'string' && file !== '') {
      try {
        return readFileSync(file); // absolute: see absolutePaths
      } catch (error) {
        throw invalidOption('kubeconfig', `a readable ${fileKey}`, `${file} in ${path} (${(error as Error).message})`);
      }
    }
    return undefined;
  };
  const clusterFields = cluster ?? {};
  const tls: RequestOptions = {
    ca: material('certificate-authority-data', 'certificate-authority', clusterFields),
    cert: material('client-certificate-data', 'client-certificate', user),
    key: material('client-key-data', 'client-key', user),
    rejectUnauthorized: clusterFields['insecure-skip-tls-verify'] !== true,
    ...(typeof clusterFields['tls-server-name'] === 'string' ? { servername: clusterFields['tls-server-name'] } : {}),
  };
  let authorization: () => string | undefined = () => undefined;
  if (typeof user.token === 'string' && user.token !== '') {
    const header = `Bearer ${user.token}`;
    authorization = () => header;
  } else if (typeof user.tokenFile === 'string' && user.tokenFile !== '') {
    const token = tokenFile(user.tokenFile);
    authorization = () => `Bearer ${token()}`;
  } else if (typeof user.username === 'string' && typeof user.password === 'string') {
    const header = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    authorization = () => header;
  }
  if (server.startsWith('http://') && authorization() !== undefined) {
    throw invalidOption(
      'kubeconfig',
      `an https:// server for a user with credentials (they would cross in clear text)`,
      `${server} in ${path}`,
    );
  }
  return {
    server,
    source: path,
    requestOptions: () => {
      const header = authorization();
      return Promise.resolve(header === undefined ? { ...tls } : { ...tls, headers: { Authorization: header } });
    },
  };
}

/** Credentials only @kubernetes/client-node knows how to get (loaded on first use). */
function clientNodeAccess(server: string, source: string, load: () => Promise<KubeConfig>): ClusterAccess {
  let config: Promise<KubeConfig> | undefined;
  return {
    server,
    source,
    requestOptions: async () => {
      // A failed load (a file briefly unreadable) is tried again on the next request.
      config ??= load().catch((error: unknown) => {
        config = undefined;
        throw error;
      });
      const options: RequestOptions = {};
      await (await config).applyToHTTPSOptions(options);
      return options;
    },
  };
}
