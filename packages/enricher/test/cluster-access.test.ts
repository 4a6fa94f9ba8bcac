import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { clusterAccessFrom } from '../src/cluster-access.js';
import { EnricherError } from '../src/errors.js';
import { tokenKubeConfig } from './kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'cluster-access-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A kubeconfig file with one context; `cluster` and `user` are merged into the entries. */
function kubeconfigFile(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'here',
      contexts: [
        { name: 'elsewhere', context: { cluster: 'other', user: 'other' } },
        { name: 'here', context: { cluster: 'c', user: 'u' } },
      ],
      clusters: [
        { name: 'other', cluster: { server: 'https://wrong:1' } },
        { name: 'c', cluster: { server: 'https://10.0.0.1:6443', ...cluster } },
      ],
      users: [{ name: 'u', user }],
    }),
  );
  return path;
}

const pem = (label: string): string => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;

describe('clusterAccessFrom', () => {
  it('reads the current context: server, CA and client certificate (inline or files relative to the kubeconfig), token', async () => {
    writeFileSync(join(dir, 'ca.crt'), pem('CERTIFICATE'));
    const path = kubeconfigFile(
      'certs.yaml',
      { 'certificate-authority': 'ca.crt', 'tls-server-name': 'api.internal' },
      {
        'client-certificate-data': Buffer.from(pem('CERTIFICATE')).toString('base64'),
        'client-key-data': Buffer.from(pem('PRIVATE KEY')).toString('base64'),
        token: 'abc',
      },
    );
    const access = clusterAccessFrom(path, {});
    assert.equal(access.server, 'https://10.0.0.1:6443');
    assert.equal(access.source, path);
    const options = await access.requestOptions();
    assert.equal(String(options.ca), pem('CERTIFICATE'));
    assert.equal(String(options.cert), pem('CERTIFICATE'));
    assert.deepEqual(options.key, Buffer.from(pem('PRIVATE KEY')));
    assert.equal(options.rejectUnauthorized, true);
    assert.equal(options.servername, 'api.internal');
    assert.deepEqual(options.headers, { Authorization: 'Bearer abc' });
  });

  it('reads a tokenFile, basic auth, and insecure-skip-tls-verify', async () => {
    writeFileSync(join(dir, 'token'), 'first\n');
    const withFile = clusterAccessFrom(kubeconfigFile('file.yaml', {}, { tokenFile: 'token' }), {});
    assert.deepEqual((await withFile.requestOptions()).headers, { Authorization: 'Bearer first' });
    const basic = clusterAccessFrom(
      kubeconfigFile('basic.yaml', { 'insecure-skip-tls-verify': true }, { username: 'a', password: 'b' }),
      {},
    );
    const options = await basic.requestOptions();
    assert.equal(options.rejectUnauthorized, false);
    assert.deepEqual(options.headers, { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
  });

  it('takes KUBECONFIG, then ~/.kube/config, then the in-cluster service account', async () => {
    const path = kubeconfigFile('env.yaml', {}, { token: 'from-env' });
    assert.equal(clusterAccessFrom(undefined, { KUBECONFIG: path }).source, path);
    const home = join(dir, 'home');
    const serviceAccount = join(dir, 'sa');
    rmSync(serviceAccount, { recursive: true, force: true });
    for (const sub of [home, join(home, '.kube'), serviceAccount]) mkdir(sub);
    writeFileSync(
      join(home, '.kube', 'config'),
      JSON.stringify({
        'current-context': 'x',
        contexts: [{ name: 'x', context: { cluster: 'c' } }],
        clusters: [{ name: 'c', cluster: { server: 'https://home:6443' } }],
      }),
    );
    assert.equal(clusterAccessFrom(undefined, { HOME: home }).server, 'https://home:6443');
    writeFileSync(join(serviceAccount, 'token'), 'sa-token');
    writeFileSync(join(serviceAccount, 'ca.crt'), pem('CERTIFICATE'));
    const inCluster = clusterAccessFrom(
      undefined,
      { HOME: join(dir, 'nowhere'), KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccount,
    );
    assert.equal(inCluster.server, 'https://[fd00::1]:443');
    const options = await inCluster.requestOptions();
    assert.deepEqual(options.headers, { Authorization: 'Bearer sa-token' });
    assert.equal(String(options.ca), pem('CERTIFICATE'));
    assert.throws(
      () => clusterAccessFrom(undefined, { HOME: join(dir, 'nowhere') }, join(dir, 'no-sa')),
      (error: unknown) => error instanceof EnricherError && /kubeconfig/.test(error.message),
    );
  });

  it('hands exec and auth-provider credentials to client-node, and takes a KubeConfig as it is', async () => {
    const exec = clusterAccessFrom(
      kubeconfigFile(
        'exec.yaml',
        {},
        {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: 'echo',
            args: [
              '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}',
            ],
          },
        },
      ),
      {},
    );
    assert.equal(exec.server, 'https://10.0.0.1:6443');
    assert.deepEqual((await exec.requestOptions()).headers, { Authorization: 'Bearer from-exec' });
    const given = clusterAccessFrom(tokenKubeConfig(), {});
    assert.equal(given.server, 'https://127.0.0.1:6443');
    assert.deepEqual((await given.requestOptions()).headers, { Authorization: 'Bearer t' });
  });

  it('merges a KUBECONFIG list as kubectl does: the first current-context and the first of each name win', async () => {
    const first = join(dir, 'merge-a');
    const second = join(dir, 'merge-b');
    mkdir(first);
    mkdir(second);
    writeFileSync(join(second, 'ca.crt'), pem('CERTIFICATE'));
    writeFileSync(join(first, 'config'), 'current-context: b\n');
    writeFileSync(
      join(second, 'config'),
      JSON.stringify({
        'current-context': 'ignored',
        contexts: [{ name: 'b', context: { cluster: 'cb', user: 'ub' } }],
        clusters: [{ name: 'cb', cluster: { server: 'https://b:6443', 'certificate-authority': 'ca.crt' } }],
        users: [{ name: 'ub', user: { token: 'token-b' } }],
      }),
    );
    const access = clusterAccessFrom(undefined, {
      KUBECONFIG: `${join(first, 'config')}:${join(dir, 'absent')}:${join(second, 'config')}`,
    });
    assert.equal(access.server, 'https://b:6443');
    const options = await access.requestOptions();
    assert.equal(String(options.ca), pem('CERTIFICATE'), 'a relative path is read against its own file');
    assert.deepEqual(options.headers, { Authorization: 'Bearer token-b' });
  });

  it('impersonation goes through client-node; credentials over plain http are refused', async () => {
    const impersonating = clusterAccessFrom(kubeconfigFile('as.yaml', {}, { token: 't', as: 'jane' }), {});
    const headers = (await impersonating.requestOptions()).headers as Record<string, string>;
    assert.equal(headers.Authorization, 'Bearer t');
    assert.equal(headers['Impersonate-User'], 'jane');
    assert.throws(
      () => clusterAccessFrom(kubeconfigFile('http.yaml', { server: 'http://10.0.0.1:8080' }, { token: 't' }), {}),
      /https:\/\/ server for a user with credentials.*http:\/\/10\.0\.0\.1:8080/,
    );
    assert.equal(
      clusterAccessFrom(kubeconfigFile('http-anonymous.yaml', { server: 'http://10.0.0.1:8080' }, {}), {}).server,
      'http://10.0.0.1:8080',
    );
  });

  it('names the kubeconfig and what is wrong with it', () => {
    const noServer = join(dir, 'no-server.yaml');
    writeFileSync(noServer, 'current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: []\n');
    assert.throws(() => clusterAccessFrom(noServer, {}), /kubeconfig.*no-server\.yaml/);
    assert.throws(() => clusterAccessFrom(join(dir, 'missing.yaml'), {}), /readable kubeconfig file.*missing\.yaml/);
    const badCa = kubeconfigFile('bad-ca.yaml', { 'certificate-authority': 'nope.crt' }, {});
    assert.throws(() => clusterAccessFrom(badCa, {}), /certificate-authority.*nope\.crt/);
    assert.throws(() => clusterAccessFrom(42, {}), /a KubeConfig or a file path/);
  });
});

function mkdir(path: string): void {
  mkdirSync(path, { recursive: true });
}
