import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { installScript } from './paths.js';
import { freePort, runInstallScript, startService, waitUntilReady, type ServiceProcess } from './process.js';
import { makeKeyPair, makeServerCertificate } from './tls.js';

export interface KubeEndpoint {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** A kubeconfig whose user is in system:masters. */
  readonly kubeconfig: string;
  readonly adminToken: string;
  /** PEM of the CA that signed the apiserver's serving certificate. */
  readonly caFile: string;
  readonly etcd: string;
  readonly version: string;
}

/** How the apiserver was started, so a test can restart it exactly (an outage test). */
export interface ApiserverLaunch {
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly server: string;
  readonly adminToken: string;
  readonly caFile: string;
  readonly ownerPid?: number;
}

export interface KubeStartOptions {
  readonly dir: string;
  readonly ownerPid?: number;
  readonly readyTimeoutMillis?: number;
}

/**
 * etcd + kube-apiserver with envtest's flags: RBAC on, service-account issuer and signing keys
 * (so the TokenRequest API works), an admin token in system:masters. No scheduler, kubelet or
 * controller-manager: pods stay where tests put them, and namespaces never finish deleting.
 */
export async function startKube(
  options: KubeStartOptions,
): Promise<{ endpoint: KubeEndpoint; processes: ServiceProcess[]; apiserver: ApiserverLaunch }> {
  const [apiserverBinary = '', etcdBinary = ''] = runInstallScript(installScript('kube')).split('\n').slice(-2);
  const dir = options.dir;
  const owner = options.ownerPid === undefined ? {} : { ownerPid: options.ownerPid };
  mkdirSync(join(dir, 'etcd'), { recursive: true });
  mkdirSync(join(dir, 'pki'), { recursive: true });

  const etcdPort = await freePort();
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = startService({
    name: 'etcd',
    command: etcdBinary,
    args: [
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      etcdUrl,
      '--advertise-client-urls',
      etcdUrl,
      '--listen-peer-urls',
      'http://127.0.0.1:0',
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    logFile: join(dir, 'etcd.log'),
    ...owner,
  });
  await waitUntilReady(etcd, () => etcdHealthy(etcdUrl), 30_000);

  const pki = join(dir, 'pki');
  const serving = makeServerCertificate(pki, 'apiserver');
  const serviceAccount = makeKeyPair(pki, 'service-account');
  const adminToken = randomBytes(24).toString('hex');
  const tokenFile = join(pki, 'tokens.csv');
  writeFileSync(tokenFile, `${adminToken},graybridge-admin,${randomUUID()},"system:masters"\n`);

  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    `--cert-dir=${pki}`,
    `--tls-cert-file=${serving.cert}`,
    `--tls-private-key-file=${serving.key}`,
    `--token-auth-file=${tokenFile}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--disable-admission-plugins=ServiceAccount',
    `--service-account-issuer=${server}/`,
    `--service-account-key-file=${serviceAccount.publicKey}`,
    `--service-account-signing-key-file=${serviceAccount.privateKey}`,
    '--v=0',
  ];
  const launch: ApiserverLaunch = {
    command: apiserverBinary,
    args: apiserverArgs,
    logFile: join(dir, 'kube-apiserver.log'),
    server,
    adminToken,
    caFile: serving.caCert,
    ...owner,
  };
  const apiserver = await startApiserver(launch, options.readyTimeoutMillis);
  const caPem = readFileSync(serving.caCert);

  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, renderKubeconfig(server, caPem, adminToken));
  return {
    endpoint: {
      server,
      kubeconfig,
      adminToken,
      caFile: serving.caCert,
      etcd: etcdUrl,
      version: /\/v([^/-]+)(?:-r\d+)?\/kube-apiserver$/.exec(apiserverBinary)?.[1] ?? 'unknown',
    },
    processes: [etcd, apiserver],
    apiserver: launch,
  };
}

/** Starts the apiserver again exactly as `launch` describes (same port, certificates, etcd). */
export async function startApiserver(launch: ApiserverLaunch, readyTimeoutMillis = 90_000): Promise<ServiceProcess> {
  const service = startService({
    name: 'kube-apiserver',
    command: launch.command,
    args: launch.args,
    logFile: launch.logFile,
    ...(launch.ownerPid === undefined ? {} : { ownerPid: launch.ownerPid }),
  });
  const ca = readFileSync(launch.caFile);
  await waitUntilReady(service, () => apiserverReady(launch.server, launch.adminToken, ca), readyTimeoutMillis);
  return service;
}

async function etcdHealthy(url: string): Promise<boolean> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { health?: string };
  return body.health === 'true';
}

function apiserverReady(server: string, token: string, ca: Buffer): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server}/readyz`,
      { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy(new Error('readyz timed out')));
    req.on('error', reject);
    req.end();
  });
}

function renderKubeconfig(server: string, ca: Buffer, token: string): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: graybridge-test
    cluster:
      server: ${server}
      certificate-authority-data: ${ca.toString('base64')}
users:
  - name: graybridge-admin
    user:
      token: ${token}
contexts:
  - name: graybridge-test
    context:
      cluster: graybridge-test
      user: graybridge-admin
current-context: graybridge-test
`;
}
