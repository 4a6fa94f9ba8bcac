import { Redis } from 'ioredis';
import { createWatchingEnricher, type EnricherStats } from '../enricher.js';
import { EnricherError, EnricherErrorCodes, invalidOption } from '../errors.js';
import type { EnricherOptions } from '../options.js';
import type { CacheChange } from '../pod-cache.js';
import {
  defaultKeyPrefix,
  encodeLookup,
  fieldsOfPod,
  queryOfField,
  sharedKeys,
  type ChangeMessage,
  type PublisherHeartbeat,
} from './layout.js';

export interface PublisherOptions {
  /** The enricher that watches the cluster (scope `cluster` is the point of shared mode). */
  readonly enricher?: EnricherOptions;
  /** `redis://…` / `rediss://…` URL, or a connected client the publisher will not close. */
  readonly redis: string | Redis;
  /** @defaultValue "graybridge:enricher:" */
  readonly keyPrefix?: string;
  /** How long changes are gathered before one write. @defaultValue 50 */
  readonly flushMillis?: number;
  /** Heartbeat interval; the key lives three intervals. @defaultValue 5000 */
  readonly heartbeatMillis?: number;
}

export interface PublisherStats {
  readonly enricher: EnricherStats;
  readonly connected: boolean;
  /** Whole-cache writes: the first after sync, then after every Redis failure. */
  readonly fullPublishes: number;
  /** Fields written or deleted by incremental flushes. */
  readonly fieldsPublished: number;
  readonly errors: number;
  readonly lastError: string | null;
  /** The cache is in Redis and readers may trust it. */
  readonly published: boolean;
}

export interface EnricherPublisher {
  /** Resolves once the first full list is synced and written to Redis. */
  ready(): Promise<void>;
  stats(): PublisherStats;
  /** Stops the watches, removes the heartbeat (readers see the publisher gone at once). */
  stop(): Promise<void>;
}

/** Fields per HSET/HDEL command: big enough to be quick, small enough not to stall Redis. */
const chunkFields = 1000;

/**
 * The enricher service of shared mode: one process watches the cluster and mirrors its cache
 * into Redis, so a thousand forwarders read metadata from Redis instead of each holding
 * cluster-wide watches. Writes are gathered for `flushMillis` and announced with their new values;
 * after any Redis failure the whole cache is written again (a change may have been lost).
 */
export function startEnricherPublisher(options: PublisherOptions): EnricherPublisher {
  const prefix = options.keyPrefix ?? defaultKeyPrefix;
  if (typeof prefix !== 'string' || prefix === '') throw invalidOption('keyPrefix', 'a non-empty string', prefix);
  const keys = sharedKeys(prefix);
  const flushMillis = options.flushMillis ?? 50;
  const heartbeatMillis = options.heartbeatMillis ?? 5000;
  const ownsRedis = typeof options.redis === 'string';
  const redis =
    typeof options.redis === 'string'
      ? new Redis(options.redis, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false })
      : options.redis;
  redis.on('error', () => undefined); // reported through a failed write and stats, not an unhandled event

  /** Fields to write again (a pod's old and new names both), namespaces and controllers whose pods changed. */
  const pending = { fields: new Set<string>(), namespaces: new Set<string>(), owners: new Set<string>() };
  const counts = { fullPublishes: 0, fieldsPublished: 0, errors: 0 };
  let lastError: string | null = null;
  let needsFull = true;
  let published = false;
  let stopped = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const startedAt = new Date().toISOString();

  const clearPending = (): void => {
    pending.fields.clear();
    pending.namespaces.clear();
    pending.owners.clear();
  };
  const schedule = (): void => {
    if (flushTimer === undefined && !stopped) flushTimer = setTimeout(() => void flushSoon(), flushMillis);
  };
  const onChange = (change: CacheChange): void => {
    if (needsFull) return; // the full write to come covers it
    if (change.kind === 'pod') for (const field of fieldsOfPod(change.pod)) pending.fields.add(field);
    else if (change.kind === 'namespace') pending.namespaces.add(change.namespace);
    else pending.owners.add(`${change.namespace}/${change.controller.kind}/${change.controller.name}`);
    schedule();
  };
  const { enricher, cache } = createWatchingEnricher(options.enricher ?? {}, onChange);

  const valueOf = (field: string): string | null => {
    const query = queryOfField(field);
    const found = query === undefined ? undefined : cache.lookup(query);
    return found === undefined ? null : encodeLookup(found);
  };

  const fail = (error: unknown): void => {
    counts.errors += 1;
    lastError = error instanceof Error ? error.message : String(error);
    needsFull = true;
  };

  const writeFields = async (values: Map<string, string | null>): Promise<void> => {
    const entries = [...values];
    for (let start = 0; start < entries.length; start += chunkFields) {
      const chunk = entries.slice(start, start + chunkFields);
      const sets = chunk.filter((e): e is [string, string] => e[1] !== null).flat();
      const deletes = chunk.filter(([, value]) => value === null).map(([field]) => field);
      const batch = redis.multi();
      if (sets.length > 0) batch.hset(keys.pods, ...sets);
      if (deletes.length > 0) batch.hdel(keys.pods, ...deletes);
      await batch.exec();
    }
  };

  const publishAll = async (): Promise<void> => {
    needsFull = false; // changes from here on are gathered for the next flush
    clearPending();
    const values = new Map<string, string | null>();
    for (const pod of cache.allPods()) for (const field of fieldsOfPod(pod)) values.set(field, valueOf(field));
    const existing = await redis.hkeys(keys.pods);
    for (const field of existing) if (!values.has(field)) values.set(field, null);
    await writeFields(values);
    const resync: ChangeMessage = { resync: true };
    await redis.publish(keys.changes, JSON.stringify(resync));
    counts.fullPublishes += 1;
    published = true;
    await heartbeat();
  };

  const publishPending = async (): Promise<void> => {
    const fields = new Set(pending.fields);
    if (pending.namespaces.size > 0 || pending.owners.size > 0) {
      for (const pod of cache.allPods()) {
        const controller = pod.controller;
        const ownerChanged =
          controller !== undefined && pending.owners.has(`${pod.namespace}/${controller.kind}/${controller.name}`);
        if (pending.namespaces.has(pod.namespace) || ownerChanged) {
          for (const field of fieldsOfPod(pod)) fields.add(field);
        }
      }
    }
    clearPending();
    if (fields.size === 0) return;
    const values = new Map([...fields].map((field) => [field, valueOf(field)] as const));
    await writeFields(values);
    const message: ChangeMessage = { fields: Object.fromEntries(values) };
    await redis.publish(keys.changes, JSON.stringify(message));
    counts.fieldsPublished += values.size;
  };

  /** One write at a time, in order. */
  const flushSoon = (): Promise<void> => {
    flushTimer = undefined;
    writing = writing.then(async () => {
      if (stopped) return;
      try {
        if (needsFull) await publishAll();
        else await publishPending();
      } catch (error) {
        fail(error); // the retry timer (or the first-publish loop) writes everything again
      }
    });
    return writing;
  };

  const heartbeat = async (): Promise<void> => {
    const beat: PublisherHeartbeat = { pods: cache.size, startedAt, publishedAt: new Date().toISOString() };
    await redis.set(keys.publisher, JSON.stringify(beat), 'PX', heartbeatMillis * 3);
  };
  const heartbeats = setInterval(() => {
    if (!published || needsFull) return;
    heartbeat().catch(fail);
  }, heartbeatMillis);
  heartbeats.unref();
  // Deleted pods expire from the cache on its own timer; a periodic flush also retries failures.
  const retries = setInterval(() => {
    if (needsFull && published) schedule();
  }, 1000);
  retries.unref();

  const firstPublish = enricher.ready().then(async () => {
    for (;;) {
      await flushSoon();
      if (published && !needsFull) return;
      if (stopped) {
        throw new EnricherError(EnricherErrorCodes.sharedCacheUnavailable, 'stopped before the first publish');
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  });
  firstPublish.catch(() => undefined);

  return {
    ready: () => firstPublish,
    stats: () => ({
      enricher: enricher.stats(),
      connected: redis.status === 'ready',
      ...counts,
      lastError,
      published: published && !needsFull,
    }),
    async stop() {
      stopped = true;
      clearTimeout(flushTimer);
      clearInterval(heartbeats);
      clearInterval(retries);
      await enricher.stop();
      await writing;
      await redis.del(keys.publisher).catch(() => undefined);
      if (ownsRedis) redis.disconnect();
    },
  };
}
