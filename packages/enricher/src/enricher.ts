import { KubeClient } from './kube-client.js';
import { compactNamespace, compactPod, StringPool, type RawNamespace, type RawPod } from './metadata.js';
import { resolveEnricherOptions, type EnricherOptions, type ResolvedOptions } from './options.js';
import { OwnerResolver, type OwnerStats } from './owner.js';
import { PodCache, type CacheChange, type PodLookup, type PodQuery } from './pod-cache.js';
import { PodFetcher, type FetchStats } from './pod-fetcher.js';
import { ResourceWatch, type WatchStats } from './resource-watch.js';

export interface EnricherStats {
  /** `direct`: this process watches the API server; `redis`: it reads what an enricher service publishes. */
  readonly mode: 'direct' | 'redis';
  /** Empty in `redis` mode. */
  readonly watches: readonly WatchStats[];
  readonly cachedPods: number;
  readonly hits: number;
  /** Hits on pods deleted within the retention period. */
  readonly staleHits: number;
  readonly misses: number;
  readonly fetches: FetchStats;
  readonly owners: OwnerStats;
  /** In `redis` mode only. */
  readonly shared?: SharedReaderStats;
}

export interface SharedReaderStats {
  readonly connected: boolean;
  /** A publisher has synced and refreshed its heartbeat within its TTL. */
  readonly publisherAlive: boolean;
  /** HMGET round trips, the fields they asked for, and failures (Redis down or slow). */
  readonly reads: number;
  readonly fieldsRead: number;
  readonly readErrors: number;
  /** Cached entries updated or dropped by change messages; full drops (publisher restart, reconnect). */
  readonly invalidations: number;
  readonly resyncs: number;
  readonly lastError: string | null;
}

export interface Enricher {
  /** Resolves after the first full list of pods (and namespaces). */
  ready(): Promise<void>;
  /**
   * Synchronous, O(1). On a miss for a `namespace`+`pod` query, a rate-limited GET is started in
   * the background so that the pod's next records hit; this call never waits for it.
   */
  lookup(query: PodQuery): PodLookup | undefined;
  /** Like `lookup`, but on a miss waits for the GET fallback (bounded by its timeout). */
  resolve(query: PodQuery): Promise<PodLookup | undefined>;
  /**
   * Brings what these queries need into memory so the `lookup`s that follow can answer: nothing
   * to do in `direct` mode (the watch holds every pod), one Redis round trip for what the local
   * cache lacks in `redis` mode. Never rejects; bounded by the read timeout.
   */
  prefetch(queries: readonly PodQuery[]): Promise<void>;
  stats(): EnricherStats;
  /** Stops the watches and timers. */
  stop(): Promise<void>;
}

export function createEnricher(options: EnricherOptions = {}): Enricher {
  return createWatchingEnricher(options).enricher;
}

/**
 * The direct enricher plus its cache and a change listener, for the Redis publisher that mirrors
 * the cache. Not part of the package's API.
 */
export function createWatchingEnricher(
  options: EnricherOptions,
  onChange?: (change: CacheChange) => void,
): { enricher: Enricher; cache: PodCache } {
  const config: ResolvedOptions = resolveEnricherOptions(options);
  const client = new KubeClient(config.access);
  const cache = new PodCache(config.deletedPodRetentionMillis, Date.now, onChange);
  const counts = { hits: 0, staleHits: 0, misses: 0 };
  const owners = new OwnerResolver(client, (namespace, controller, top) => cache.setOwner(namespace, controller, top), {
    concurrency: 4,
    timeoutMillis: config.missFetch.timeoutMillis,
    retryMillis: 60_000,
  });
  const fetcher = new PodFetcher(client, config.missFetch);
  const pool = new StringPool();

  const addPod = (raw: RawPod): void => {
    const pod = compactPod(raw, config.labels, config.annotations, pool);
    if (pod === undefined) return;
    cache.upsert(pod);
    const controller = pod.controller;
    if (
      config.resolveOwners &&
      controller !== undefined &&
      OwnerResolver.needsLookup(controller) &&
      !cache.hasOwner(pod.namespace, controller)
    ) {
      owners.request(pod.namespace, controller);
    }
  };

  const watchOptions = {
    pageSize: config.watch.pageSize,
    requestTimeoutMillis: config.watch.requestTimeoutMillis,
    stallMillis: config.watch.stallMillis,
    backoffInitialMillis: config.watch.backoffInitialMillis,
    backoffMaxMillis: config.watch.backoffMaxMillis,
  };
  const podWatch = new ResourceWatch<RawPod>(client, {
    resource: 'pods',
    path: '/api/v1/pods',
    ...(config.scope === 'node' ? { fieldSelector: `spec.nodeName=${config.nodeName ?? ''}` } : {}),
    handlers: {
      upsert: addPod,
      remove: (raw) => {
        const uid = raw.metadata?.uid;
        if (uid !== undefined) cache.markDeleted(uid);
      },
      listed: (uids) => cache.markMissingDeleted(uids),
    },
    ...watchOptions,
  });
  const namespaceWatch = config.namespaceLabels
    ? new ResourceWatch<RawNamespace>(client, {
        resource: 'namespaces',
        path: '/api/v1/namespaces',
        handlers: {
          upsert: (raw) => {
            const namespace = compactNamespace(raw, config.labels);
            if (namespace !== undefined) cache.upsertNamespace(namespace);
          },
          remove: (raw) => {
            if (raw.metadata?.name !== undefined) cache.deleteNamespace(raw.metadata.name);
          },
          listed: () => undefined, // a namespace gone while unwatched only leaves stale labels until re-created
        },
        ...watchOptions,
      })
    : undefined;
  const watches = namespaceWatch === undefined ? [podWatch] : [podWatch, namespaceWatch];
  for (const watch of watches) watch.start();
  const expiry = setInterval(
    () => cache.expire(),
    Math.max(1000, Math.min(config.deletedPodRetentionMillis / 4, 15_000)),
  );
  expiry.unref();
  const synced = Promise.all(watches.map((w) => w.synced)).then(() => undefined);

  const count = (found: PodLookup | undefined): PodLookup | undefined => {
    if (found === undefined) counts.misses += 1;
    else if (found.deleted) counts.staleHits += 1;
    else counts.hits += 1;
    return found;
  };

  /** Only a namespace/pod query can be fetched: the API has no lookup by uid or IP. */
  const fetchable = (query: PodQuery): query is PodQuery & { namespace: string; pod: string } =>
    config.missFetch.enabled && query.namespace !== undefined && query.pod !== undefined;

  const fetchMissing = async (query: PodQuery & { namespace: string; pod: string }): Promise<PodLookup | undefined> => {
    const raw = await fetcher.fetch(query.namespace, query.pod);
    if (raw !== undefined) addPod(raw);
    return cache.lookup(query);
  };

  const enricher: Enricher = {
    ready: () => synced,
    lookup(query) {
      const found = cache.lookup(query);
      if (found === undefined && fetchable(query)) void fetchMissing(query);
      return count(found);
    },
    async resolve(query) {
      return count(cache.lookup(query) ?? (fetchable(query) ? await fetchMissing(query) : undefined));
    },
    prefetch: () => Promise.resolve(),
    stats: () => ({
      mode: 'direct',
      watches: watches.map((w) => w.stats()),
      cachedPods: cache.size,
      ...counts,
      fetches: fetcher.stats(),
      owners: owners.stats(),
    }),
    async stop() {
      clearInterval(expiry);
      await Promise.all(watches.map((w) => w.stop()));
      client.close();
    },
  };
  return { enricher, cache };
}
