// The cluster the benchmarks run against: realistic pods, many of them, in a real kube-apiserver.

export const namespaces = 50;

/** Where pod `i` of `loadPods` lives and what it is called. */
export function podIdentity(i: number): { readonly namespace: string; readonly pod: string } {
  return { namespace: `bench-${i % namespaces}`, pod: `app-${i % 200}-7d9f8c6b5-${i.toString(36).padStart(5, '0')}` };
}

/** One realistic pod: labels, annotations, two containers, an owner. */
function podBody(i: number): object {
  const app = `app-${i % 200}`;
  return {
    metadata: {
      name: podIdentity(i).pod,
      labels: {
        app,
        'app.kubernetes.io/name': app,
        'app.kubernetes.io/part-of': 'shop',
        'pod-template-hash': '7d9f8c6b5',
        tier: i % 3 === 0 ? 'web' : 'worker',
      },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
        'kubectl.kubernetes.io/restartedAt': '2026-11-01T00:00:00Z',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${app}-7d9f8c6b5`,
          uid: `00000000-0000-0000-0000-${String(i % 200).padStart(12, '0')}`,
          controller: true,
        },
      ],
    },
    spec: {
      nodeName: `node-${i % 100}`,
      containers: [
        {
          name: 'app',
          image: `registry.example.com/shop/${app}:1.${i % 50}.0`,
          env: [{ name: 'A', value: 'b' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' } },
        },
        {
          name: 'istio-proxy',
          image: 'docker.io/istio/proxyv2:1.24.0',
          args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local'],
        },
      ],
    },
  };
}

/** `pods` pods spread over `namespaces` namespaces, created 16 at a time. */
export async function loadPods(kubeconfig: string, pods: number): Promise<void> {
  // Imported here, not at the top: the enricher benchmark's measured child imports this module
  // for podIdentity and must not carry the client's memory.
  const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  for (let n = 0; n < namespaces; n += 1) await core.createNamespace({ body: { metadata: { name: `bench-${n}` } } });
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < pods; i = next++) {
      await core.createNamespacedPod({ namespace: podIdentity(i).namespace, body: podBody(i) });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
