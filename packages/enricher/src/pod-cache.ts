import { ownIp, type NamespaceMetadata, type OwnerRef, type PodMetadata } from './metadata.js';

/** How a record names its pod: any one of these is enough. */
export interface PodQuery {
  readonly namespace?: string;
  readonly pod?: string;
  readonly podUid?: string;
  readonly podIp?: string;
}

/** A found pod: its metadata, its namespace's labels and its top controller. */
export interface PodLookup {
  readonly pod: PodMetadata;
  readonly namespaceLabels: Readonly<Record<string, string>> | undefined;
  /** The top controller (Deployment, CronJob, StatefulSet, DaemonSet…) when resolved, else the direct one. */
  readonly owner: OwnerRef | undefined;
  /** The pod was deleted; this is its metadata kept for the retention period. */
  readonly deleted: boolean;
}

/**
 * What changed in the cache, for a mirror of it (the Redis publisher): a pod by uid (added,
 * updated, deleted or expired — `pod` is its last metadata), or a namespace's labels, or the top
 * controller of one of a namespace's controllers.
 */
export type CacheChange =
  | { readonly kind: 'pod'; readonly pod: PodMetadata }
  | { readonly kind: 'namespace'; readonly namespace: string }
  | { readonly kind: 'owner'; readonly namespace: string; readonly controller: OwnerRef };

interface Entry {
  pod: PodMetadata;
  deletedAt: number | undefined;
}

/**
 * Pods indexed by uid, namespace/name and IP, namespaces by name. Deleted pods stay resolvable
 * for `retentionMillis` (late logs of short-lived pods). Lookups are synchronous and O(1).
 */
export class PodCache {
  private readonly byUid = new Map<string, Entry>();
  /** namespace → pod name → entry: no key string is built per lookup (a fresh string is hashed anew). */
  private readonly byName = new Map<string, Map<string, Entry>>();
  private readonly byIp = new Map<string, Entry>();
  private readonly namespaces = new Map<string, NamespaceMetadata>();
  private readonly owners = new Map<string, OwnerRef>();

  constructor(
    private readonly retentionMillis: number,
    private readonly now: () => number = Date.now,
    private readonly onChange: (change: CacheChange) => void = () => undefined,
  ) {}

  get size(): number {
    return this.byUid.size;
  }

  upsert(pod: PodMetadata): void {
    const previous = this.byUid.get(pod.uid);
    if (previous !== undefined) this.unindexIp(previous);
    const entry: Entry = { pod, deletedAt: undefined };
    this.byUid.set(pod.uid, entry);
    let names = this.byName.get(pod.namespace);
    if (names === undefined) this.byName.set(pod.namespace, (names = new Map<string, Entry>()));
    names.set(pod.name, entry);
    const ip = ownIp(pod);
    if (ip !== undefined) this.byIp.set(ip, entry);
    // A re-list hands every pod in again: only a new version is a change.
    const unchanged = previous?.deletedAt === undefined && previous?.pod.resourceVersion === pod.resourceVersion;
    if (unchanged) return;
    this.onChange({ kind: 'pod', pod });
    if (previous !== undefined && previous.pod.podIp !== pod.podIp) this.onChange({ kind: 'pod', pod: previous.pod });
  }

  /** Marks a pod deleted; it is forgotten `retentionMillis` later (see `expire`). */
  markDeleted(uid: string): void {
    const entry = this.byUid.get(uid);
    if (entry !== undefined && entry.deletedAt === undefined) {
      entry.deletedAt = this.now();
      this.onChange({ kind: 'pod', pod: entry.pod });
    }
  }

  /** After a re-list: pods absent from it were deleted while the watch was down. */
  markMissingDeleted(presentUids: ReadonlySet<string>): void {
    for (const uid of this.byUid.keys()) if (!presentUids.has(uid)) this.markDeleted(uid);
  }

  /** Drops deleted pods older than the retention period. Call periodically. */
  expire(): number {
    const cutoff = this.now() - this.retentionMillis;
    let expired = 0;
    for (const [uid, entry] of this.byUid) {
      if (entry.deletedAt === undefined || entry.deletedAt > cutoff) continue;
      this.byUid.delete(uid);
      const names = this.byName.get(entry.pod.namespace);
      if (names?.get(entry.pod.name) === entry) {
        names.delete(entry.pod.name);
        if (names.size === 0) this.byName.delete(entry.pod.namespace);
      }
      this.unindexIp(entry);
      expired += 1;
      this.onChange({ kind: 'pod', pod: entry.pod });
    }
    return expired;
  }

  upsertNamespace(namespace: NamespaceMetadata): void {
    this.namespaces.set(namespace.name, namespace);
    this.onChange({ kind: 'namespace', namespace: namespace.name });
  }

  deleteNamespace(name: string): void {
    if (this.namespaces.delete(name)) this.onChange({ kind: 'namespace', namespace: name });
  }

  /** Records the top controller of a direct controller (e.g. ReplicaSet shop/web-7d9f → Deployment web). */
  setOwner(namespace: string, controller: OwnerRef, top: OwnerRef): void {
    this.owners.set(ownerKey(namespace, controller), top);
    this.onChange({ kind: 'owner', namespace, controller });
  }

  hasOwner(namespace: string, controller: OwnerRef): boolean {
    return this.owners.has(ownerKey(namespace, controller));
  }

  /** The pods of a namespace, by name (a name's newest pod). */
  podsIn(namespace: string): PodMetadata[] {
    return [...(this.byName.get(namespace)?.values() ?? [])].map((entry) => entry.pod);
  }

  /** Every pod (live and retained). */
  allPods(): PodMetadata[] {
    return [...this.byUid.values()].map((entry) => entry.pod);
  }

  lookup(query: PodQuery): PodLookup | undefined {
    const entry =
      (query.podUid !== undefined ? this.byUid.get(query.podUid) : undefined) ??
      (query.namespace !== undefined && query.pod !== undefined
        ? this.byName.get(query.namespace)?.get(query.pod)
        : undefined) ??
      (query.podIp !== undefined ? this.byIp.get(query.podIp) : undefined);
    if (entry === undefined) return undefined;
    const pod = entry.pod;
    const controller = pod.controller;
    return {
      pod,
      namespaceLabels: this.namespaces.get(pod.namespace)?.labels,
      owner:
        controller === undefined ? undefined : (this.owners.get(ownerKey(pod.namespace, controller)) ?? controller),
      deleted: entry.deletedAt !== undefined,
    };
  }

  private unindexIp(entry: Entry): void {
    const ip = entry.pod.podIp;
    if (ip !== undefined && this.byIp.get(ip) === entry) this.byIp.delete(ip);
  }
}

export function ownerKey(namespace: string, owner: OwnerRef): string {
  return `${namespace}/${owner.kind}/${owner.name}`;
}
