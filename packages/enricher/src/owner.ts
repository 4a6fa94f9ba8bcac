import type { KubeClient } from './kube-client.js';
import type { OwnerRef } from './metadata.js';

/** Controllers that have a controller of their own worth naming: the top of the chain is what people search by. */
const parentPaths: Readonly<Record<string, (namespace: string, name: string) => string>> = {
  ReplicaSet: (ns, name) => `/apis/apps/v1/namespaces/${ns}/replicasets/${name}`,
  Job: (ns, name) => `/apis/batch/v1/namespaces/${ns}/jobs/${name}`,
};

interface OwnedObject {
  metadata?: { ownerReferences?: { kind?: string; name?: string; controller?: boolean }[] };
}

export interface OwnerStats {
  readonly lookups: number;
  readonly failures: number;
}

/**
 * Resolves a pod's direct controller to the top of its chain (ReplicaSet → Deployment,
 * Job → CronJob) with one GET per controller, at most `concurrency` at a time, each controller
 * asked once (and again only after a failure, `retryMillis` later).
 */
export class OwnerResolver {
  private readonly pending = new Set<string>();
  private readonly failedAt = new Map<string, number>();
  private readonly queue: { namespace: string; controller: OwnerRef }[] = [];
  private running = 0;
  private lookups = 0;
  private failures = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly onResolved: (namespace: string, controller: OwnerRef, top: OwnerRef) => void,
    private readonly options: { concurrency: number; timeoutMillis: number; retryMillis: number },
  ) {}

  stats(): OwnerStats {
    return { lookups: this.lookups, failures: this.failures };
  }

  /** Whether a controller of this kind has a parent to look up at all. */
  static needsLookup(controller: OwnerRef): boolean {
    return controller.kind in parentPaths;
  }

  request(namespace: string, controller: OwnerRef): void {
    const key = `${namespace}/${controller.kind}/${controller.name}`;
    if (this.pending.has(key)) return;
    const failed = this.failedAt.get(key);
    if (failed !== undefined && Date.now() - failed < this.options.retryMillis) return;
    this.pending.add(key);
    this.queue.push({ namespace, controller });
    this.drain();
  }

  private drain(): void {
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.running += 1;
      void this.resolve(next.namespace, next.controller).finally(() => {
        this.running -= 1;
        this.pending.delete(`${next.namespace}/${next.controller.kind}/${next.controller.name}`);
        this.drain();
      });
    }
  }

  private async resolve(namespace: string, controller: OwnerRef): Promise<void> {
    const path = parentPaths[controller.kind];
    if (path === undefined) return;
    this.lookups += 1;
    try {
      const object = await this.client.getJson<OwnedObject>(
        path(namespace, controller.name),
        {},
        this.options.timeoutMillis,
      );
      const refs = object.metadata?.ownerReferences ?? [];
      const parent = refs.find((ref) => ref.controller === true) ?? refs[0];
      const top =
        parent?.kind !== undefined && parent.name !== undefined ? { kind: parent.kind, name: parent.name } : controller;
      this.failedAt.delete(`${namespace}/${controller.kind}/${controller.name}`);
      this.onResolved(namespace, controller, top);
    } catch {
      // A 404 (controller gone) or an outage: the pod keeps its direct controller; try again later.
      this.failures += 1;
      this.failedAt.set(`${namespace}/${controller.kind}/${controller.name}`, Date.now());
    }
  }
}
