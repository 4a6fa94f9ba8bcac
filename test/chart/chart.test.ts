// The Helm chart, validated for real: helm lint and template for every ci/*-values.yaml, the
// rendered objects checked field by field, a server-side dry-run of each on the real
// kube-apiserver, and the chart's RBAC applied and exercised with its ServiceAccount's token.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { checkApiAccess, enricherClusterRoleRules } from '@graybridge/enricher';
import { loadConfig } from '@graybridge/forwarder/config';
import { useRig } from '@graybridge/rig';
import { parseAllDocuments } from 'yaml';
import { serviceAccountKubeConfig } from '../fixtures/workload.js';

const rig = useRig(['helm', 'kube']);
const chart = fileURLToPath(new URL('../../../charts/graybridge', import.meta.url));
const variants = readdirSync(join(chart, 'ci')).filter((f) => f.endsWith('-values.yaml'));
/** The image's ENTRYPOINT (`node` and the CLI's path), which the chart's command repeats around the flags. */
const entrypoint = JSON.parse(
  /^ENTRYPOINT (.+)$/m.exec(
    readFileSync(fileURLToPath(new URL('../../../Dockerfile', import.meta.url)), 'utf8'),
  )?.[1] ?? '[]',
) as string[];

interface Rendered extends KubernetesObject {
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  readonly [key: string]: unknown;
}

function helm(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(rig().helm?.binary ?? 'helm', args, { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function render(args: readonly string[]): Rendered[] {
  const result = helm(['template', 'gb', chart, '--namespace', 'logging', ...args]);
  assert.equal(result.code, 0, result.stderr);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJSON() as Rendered | null)
    .filter((doc): doc is Rendered => doc !== null);
}

const find = (objects: readonly Rendered[], kind: string): Rendered | undefined => objects.find((o) => o.kind === kind);
// Rendered manifests are data: walk them as such.
const at = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], value);

/**
 * The container's command, run from the repository's root (the image's WORKDIR has the same
 * layout): node takes every flag in it, and the entrypoint it names exists and starts.
 */
function assertRuns(command: unknown, what: string): string[] {
  assert.ok(Array.isArray(command) && command[0] === 'node', `${what}: the command is node with flags`);
  assert.deepEqual([command[0], command.at(-1)], entrypoint, `${what}: the Dockerfile's ENTRYPOINT around the flags`);
  const result = spawnSync(process.execPath, [...(command.slice(1) as string[]), '--help'], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `${what}: ${command.join(' ')} --help: ${result.stderr}`);
  assert.match(result.stdout, /usage: graybridge/);
  return command.slice(1, -1) as string[];
}

describe('Helm chart charts/graybridge', () => {
  it('lints with every ci/*-values.yaml; the defaults are refused until brokers and Graylog are set', () => {
    assert.ok(variants.length >= 3);
    for (const variant of variants) {
      const result = helm(['lint', chart, '-f', join(chart, 'ci', variant)]);
      assert.equal(result.code, 0, `${variant}: ${result.stdout}${result.stderr}`);
    }
    const bare = helm(['template', 'gb', chart]);
    assert.notEqual(bare.code, 0);
    assert.match(bare.stderr, /\/config\/kafka\/brokers': minItems: got 0, want 1/);
    assert.match(bare.stderr, /\/config\/gelf': missing property 'host'/);
  });

  it('values.schema.json rejects bad values, and secrets inlined in values, before anything renders', () => {
    const daemonset = ['-f', join(chart, 'ci', 'daemonset-values.yaml')];
    const cases: [string[], RegExp][] = [
      [['--set', 'config.gelf.port=abc'], /at '\/config\/gelf\/port': got string, want integer/],
      [['--set', 'config.gelf.transport=smoke'], /at '\/config\/gelf\/transport'/],
      [['--set', 'config.kafka.grupId=x'], /additional properties 'grupId' not allowed/],
      [
        ['--set', 'config.kafka.sasl.password=hunter2'],
        /at '\/config\/kafka\/sasl': additional properties 'password' not allowed/,
      ],
      [['--set', 'kind=StatefulSet'], /at '\/kind'/],
      [['--set', 'resources=null'], /resources/],
      [['--set', 'nodeArgs={--max-old-space-size=512,heap}'], /at '\/nodeArgs\/1': 'heap' does not match pattern/],
      [['--set', 'nodeOptions=--max-old-space-size=512'], /additional properties 'nodeOptions' not allowed/],
      [
        ['--set', 'config.ops.drainTimeoutMillis=30000'],
        /drainTimeoutMillis \(30000\) must be below terminationGracePeriodSeconds \(30 s\)/,
      ],
    ];
    for (const [args, expected] of cases) {
      const result = helm(['template', 'gb', chart, ...daemonset, ...args]);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, expected);
      assert.doesNotMatch(result.stderr + result.stdout, /hunter2/);
    }
  });

  it('renders what an operator expects: probes, limits, non-root read-only, Downward API env, checksum, drain below grace', () => {
    for (const variant of variants) {
      const objects = render(['-f', join(chart, 'ci', variant)]);
      const workload = objects.find((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment');
      assert.ok(workload, variant);
      const pod = at(workload, 'spec', 'template', 'spec');
      const container = at(pod, 'containers', 0) as Record<string, unknown>;
      assert.deepEqual(at(container, 'livenessProbe', 'httpGet'), { path: '/healthz', port: 'metrics' });
      assert.deepEqual(at(container, 'readinessProbe', 'httpGet'), { path: '/readyz', port: 'metrics' });
      for (const kind of ['requests', 'limits']) {
        assert.ok(at(container, 'resources', kind, 'cpu'), `${variant}: ${kind}.cpu`);
        assert.ok(at(container, 'resources', kind, 'memory'), `${variant}: ${kind}.memory`);
      }
      assert.equal(at(pod, 'securityContext', 'runAsNonRoot'), true);
      assert.equal(at(container, 'securityContext', 'readOnlyRootFilesystem'), true);
      assert.equal(at(container, 'securityContext', 'allowPrivilegeEscalation'), false);
      assert.deepEqual(at(container, 'securityContext', 'capabilities', 'drop'), ['ALL']);
      const env = at(container, 'env') as { name: string; value?: string; valueFrom?: unknown }[];
      const fieldOf = (name: string) =>
        at(
          env.find((e) => e.name === name),
          'valueFrom',
          'fieldRef',
          'fieldPath',
        );
      assert.equal(fieldOf('NODE_NAME'), 'spec.nodeName');
      assert.equal(fieldOf('POD_NAME'), 'metadata.name');
      assert.equal(fieldOf('POD_NAMESPACE'), 'metadata.namespace');
      assert.ok(!objects.some((o) => o.kind === 'Secret'), 'the chart never creates Secrets from values');
      assertRuns(at(container, 'command'), variant);

      // The ConfigMap is a config the forwarder itself accepts, with the drain below the grace period.
      const configText = at(find(objects, 'ConfigMap'), 'data', 'graybridge.yaml') as string;
      const file = join(mkdtempSync(join(tmpdir(), 'chart-config-')), 'graybridge.yaml');
      writeFileSync(file, configText);
      // With what its Secrets will put in env (placeholders here).
      const secretEnv = Object.fromEntries(
        env
          .filter((e) => at(e, 'valueFrom', 'secretKeyRef') !== undefined)
          .map((e) => [
            e.name,
            e.name === 'GRAYBRIDGE_REDIS_URL' ? 'redis://redis.from-a-secret:6379' : 'from-a-secret',
          ]),
      );
      const { config } = loadConfig({ argv: ['--config', file], env: secretEnv });
      const grace = at(pod, 'terminationGracePeriodSeconds') as number;
      assert.ok(config.ops.drainTimeoutMillis < grace * 1000, variant);
      assert.equal(
        at(workload, 'spec', 'template', 'metadata', 'annotations', 'checksum/config'),
        createHash('sha256').update(configText.trimEnd()).digest('hex'),
        `${variant}: checksum/config is the config's hash`,
      );
    }
  });

  it('nodeArgs: null or empty leaves node without flags; underscores are node spellings too', () => {
    const daemonset = ['-f', join(chart, 'ci', 'daemonset-values.yaml')];
    const cases: [string[], string[]][] = [
      [['--set', 'nodeArgs=null'], []],
      [['--set-json', 'nodeArgs=[]'], []],
      [['--set-json', 'nodeArgs=["--max_old_space_size=256"]'], ['--max_old_space_size=256']],
    ];
    for (const [args, flags] of cases) {
      const workload = render([...daemonset, ...args]).find((o) => o.kind === 'DaemonSet');
      const command = at(workload, 'spec', 'template', 'spec', 'containers', 0, 'command');
      assert.deepEqual(assertRuns(command, args.join(' ')), flags, args.join(' '));
    }
  });

  it('a config change changes checksum/config; secretEnv becomes secretKeyRef; PDB and ServiceMonitor only where they belong', () => {
    const base = ['-f', join(chart, 'ci', 'daemonset-values.yaml')];
    const checksum = (objects: Rendered[]) =>
      at(find(objects, 'DaemonSet'), 'spec', 'template', 'metadata', 'annotations', 'checksum/config');
    assert.notEqual(checksum(render(base)), checksum(render([...base, '--set', 'config.gelf.port=12202'])));
    assert.equal(find(render(base), 'PodDisruptionBudget'), undefined);
    assert.equal(find(render(base), 'ServiceMonitor'), undefined, 'no ServiceMonitor without its API');
    assert.ok(find(render([...base, '--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor']), 'ServiceMonitor'));

    const deployment = render(['-f', join(chart, 'ci', 'deployment-values.yaml')]);
    assert.equal(at(find(deployment, 'Deployment'), 'spec', 'replicas'), 3);
    assert.ok(find(deployment, 'PodDisruptionBudget'));
    const env = at(find(deployment, 'Deployment'), 'spec', 'template', 'spec', 'containers', 0, 'env') as {
      name: string;
      valueFrom?: unknown;
    }[];
    assert.deepEqual(
      at(
        env.find((e) => e.name === 'GRAYBRIDGE_REDIS_URL'),
        'valueFrom',
        'secretKeyRef',
      ),
      {
        name: 'graybridge-redis',
        key: 'url',
      },
    );
    const dashboard = JSON.parse(
      at(
        deployment.find((o) => o.metadata.name.endsWith('-dashboard')),
        'data',
        'graybridge.json',
      ) as string,
    ) as { panels: { title: string }[] };
    for (const title of [
      'Consumer lag by topic',
      'Throughput',
      'Not delivered, by reason',
      'Sink errors and holds',
      'Enrichment hit rate',
    ])
      assert.ok(
        dashboard.panels.some((p) => p.title === title),
        title,
      );
  });

  it('the ClusterRole is the enricher’s rules and nothing else (less without owner resolution)', () => {
    const rules = at(find(render(['-f', join(chart, 'ci', 'daemonset-values.yaml')]), 'ClusterRole'), 'rules');
    assert.deepEqual(
      rules,
      enricherClusterRoleRules.map((r) => ({
        apiGroups: [...r.apiGroups],
        resources: [...r.resources],
        verbs: [...r.verbs],
      })),
    );
    const noOwners = at(find(render(['-f', join(chart, 'ci', 'tls-sasl-values.yaml')]), 'ClusterRole'), 'rules');
    assert.deepEqual(noOwners, [
      { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('shared mode: an enricher Deployment alone holds the ClusterRole; forwarders read Redis and get no API token', () => {
    const objects = render(['-f', join(chart, 'ci', 'shared-enricher-values.yaml')]);
    const configText = at(find(objects, 'ConfigMap'), 'data', 'graybridge.yaml') as string;
    assert.match(configText, /mode: redis/);
    const forwarder = find(objects, 'DaemonSet');
    assert.equal(at(forwarder, 'spec', 'template', 'spec', 'automountServiceAccountToken'), false);
    const enricher = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gb-graybridge-enricher');
    assert.ok(enricher, 'the enricher Deployment');
    assert.equal(at(enricher, 'spec', 'replicas'), 1, 'one publisher per key prefix');
    assert.equal(at(enricher, 'spec', 'strategy', 'type'), 'Recreate', 'never two publishers during a rollout');
    const services = objects.filter((o) => o.kind === 'Service');
    assert.ok(
      services.some((service) => at(service, 'spec', 'selector', 'app.kubernetes.io/component') === 'enricher'),
      'the enricher’s metrics are scraped too',
    );
    const pod = at(enricher, 'spec', 'template', 'spec');
    assert.equal(at(pod, 'serviceAccountName'), 'gb-graybridge-enricher');
    assert.deepEqual(at(pod, 'containers', 0, 'args'), ['enricher']);
    assertRuns(at(pod, 'containers', 0, 'command'), 'the enricher');
    const env = at(pod, 'containers', 0, 'env') as { name: string }[];
    assert.deepEqual(
      env.map((e) => e.name),
      ['GRAYBRIDGE_CONFIG', 'GRAYBRIDGE_REDIS_URL'],
      'the enricher gets the Redis URL and no other secret',
    );
    const subjects = at(find(objects, 'ClusterRoleBinding'), 'subjects') as { name: string }[];
    assert.deepEqual(
      subjects.map((subject) => subject.name),
      ['gb-graybridge-enricher'],
    );
    assert.deepEqual(
      objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name),
      ['gb-graybridge', 'gb-graybridge-enricher'],
    );

    const withoutRedis = helm([
      'template',
      'gb',
      chart,
      '--set',
      'sharedEnricher.enabled=true',
      '--set',
      'config.kafka.brokers={k:9092}',
      '--set',
      'config.gelf.host=graylog',
    ]);
    assert.notEqual(withoutRedis.code, 0);
    assert.match(withoutRedis.stderr, /sharedEnricher\.enabled needs the Redis URL: add \{ env: GRAYBRIDGE_REDIS_URL/);
  });

  it('every rendered object passes a server-side dry-run on the real API server', async () => {
    const admin = new KubeConfig();
    admin.loadFromFile(rig().kube?.kubeconfig ?? '');
    const objects = KubernetesObjectApi.makeApiClient(admin);
    const namespace = `chart-${randomUUID().slice(0, 8)}`;
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding']);
    for (const variant of variants) {
      for (const object of render(['-f', join(chart, 'ci', variant)])) {
        const spec = {
          ...object,
          metadata: { ...object.metadata, ...(clusterScoped.has(object.kind) ? {} : { namespace }) },
        };
        await objects.create(spec, undefined, 'All').catch((error: unknown) => {
          throw new Error(`${variant}: ${object.kind}/${object.metadata.name} refused: ${String(error)}`);
        });
      }
    }
  });

  it('its RBAC applied for real: the ServiceAccount may read pods and namespaces, and nothing more', async () => {
    const kube = rig().kube;
    assert.ok(kube);
    const admin = new KubeConfig();
    admin.loadFromFile(kube.kubeconfig);
    const namespace = `chart-rbac-${randomUUID().slice(0, 8)}`;
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const release = `rbac${randomUUID().slice(0, 6)}`;
    const rendered = parseAllDocuments(
      helm(['template', release, chart, '--namespace', namespace, '-f', join(chart, 'ci', 'daemonset-values.yaml')])
        .stdout,
    )
      .map((doc) => doc.toJSON() as Rendered | null)
      .filter(
        (o): o is Rendered => o !== null && ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind),
      );
    assert.equal(rendered.length, 3);
    const objects = KubernetesObjectApi.makeApiClient(admin);
    for (const object of rendered) {
      await objects.create(
        object.kind === 'ServiceAccount' ? { ...object, metadata: { ...object.metadata, namespace } } : object,
      );
    }
    const serviceAccount = rendered.find((o) => o.kind === 'ServiceAccount')?.metadata.name ?? '';
    const asChart = await serviceAccountKubeConfig(core, kube, namespace, serviceAccount);
    assert.deepEqual((await checkApiAccess({ kubeconfig: asChart })).missing, []);
    const reviews = asChart.makeApiClient(AuthorizationV1Api);
    for (const [verb, resource, group] of [
      ['get', 'secrets', ''],
      ['list', 'secrets', ''],
      ['create', 'pods', ''],
      ['delete', 'pods', ''],
      ['patch', 'namespaces', ''],
      ['get', 'configmaps', ''],
      ['list', 'deployments', 'apps'],
      ['create', 'replicasets', 'apps'],
    ] as const) {
      const review = await reviews.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { verb, resource, group } } },
      });
      assert.equal(review.status?.allowed, false, `${verb} ${resource} must be forbidden`);
    }
    const forbidden = await asChart
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace })
      .then(
        () => 200,
        (error: unknown) => (error as { code?: number }).code,
      );
    assert.equal(forbidden, 403);
  });
});
