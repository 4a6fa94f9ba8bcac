import { randomUUID } from 'node:crypto';
import { until } from '@graybridge/rig';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type V1OwnerReference,
  type V1Pod,
} from '@kubernetes/client-node';

export function adminConfig(kubeconfigFile: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigFile);
  return config;
}

/** The test apiserver runs no controllers: objects stay exactly as created, owners are set by hand. */
export class Cluster {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;

  constructor(readonly config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.batch = config.makeApiClient(BatchV1Api);
  }

  /** Namespaces never finish deleting without a controller-manager: one fresh namespace per test. */
  async namespace(labels: Record<string, string> = {}): Promise<string> {
    const name = `enr-${randomUUID().slice(0, 8)}`;
    await this.core.createNamespace({ body: { metadata: { name, labels } } });
    return name;
  }

  async pod(
    namespace: string,
    name: string,
    options: {
      node?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      owner?: V1OwnerReference;
      ip?: string;
    } = {},
  ): Promise<V1Pod> {
    const created = await this.core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name,
          labels: options.labels ?? { app: name },
          annotations: options.annotations ?? {},
          ...(options.owner === undefined ? {} : { ownerReferences: [options.owner] }),
        },
        spec: {
          nodeName: options.node ?? 'node-a',
          containers: [
            { name: 'app', image: `registry.example/${name}:1.0` },
            { name: 'sidecar', image: 'registry.example/proxy:2' },
          ],
        },
      },
    });
    if (options.ip === undefined) return created;
    created.status = { podIP: options.ip, podIPs: [{ ip: options.ip }], phase: 'Running' };
    return this.core.replaceNamespacedPodStatus({ name, namespace, body: created });
  }

  /**
   * A Deployment, its ReplicaSet `<name>-<hash>` and a pod `<name>-<hash>-<suffix>`, chained by
   * ownerReferences as the controllers would have done. Returns the pod's name.
   */
  async deploymentPod(namespace: string, name: string, hash: string, suffix: string): Promise<string> {
    const template = { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'x' }] } };
    const selector = { matchLabels: { app: name } };
    const deployment = await this.apps.createNamespacedDeployment({
      namespace,
      body: { metadata: { name }, spec: { selector, template } },
    });
    const replicaSetName = `${name}-${hash}`;
    const replicaSet = await this.apps.createNamespacedReplicaSet({
      namespace,
      body: {
        metadata: {
          name: replicaSetName,
          ownerReferences: [ownerRef('Deployment', name, deployment.metadata?.uid ?? '', 'apps/v1')],
        },
        spec: { selector, template },
      },
    });
    const podName = `${replicaSetName}-${suffix}`;
    await this.pod(namespace, podName, {
      owner: ownerRef('ReplicaSet', replicaSetName, replicaSet.metadata?.uid ?? '', 'apps/v1'),
    });
    return podName;
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
  }
}

export function ownerRef(kind: string, name: string, uid: string, apiVersion: string): V1OwnerReference {
  return { apiVersion, kind, name, uid, controller: true };
}

/** Polls `check` until it returns a value other than undefined; rejects after `timeoutMillis`. */
export function eventually<T>(check: () => T | undefined, timeoutMillis = 1000, what = 'condition'): Promise<T> {
  return until(check, timeoutMillis, what, 20);
}
