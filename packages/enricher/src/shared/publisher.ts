import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createWatchingEnricher, type EnricherStats } from '../enricher.js';
import { EnricherError, EnricherErrorCodes, invalidOption } from '../errors.js';
import type { PodMetadata } from '../metadata.js';
import type { EnricherOptions } from '../options.js';
import { ownerKey, type CacheChange } from '../pod-cache.js';
import { defaultKeyPrefix, encodeLookup, fieldsOfPod, queryOfField, sharedKeys, type ChangeMessage } from './layout.js';

export interface PublisherOptions {
  /** The enricher that watches the cluster (scope `cluster` is the point of shared mode). */
  readonly enricher?: EnricherOptions;
  /** `redis://…` / `rediss://…` URL. */
  readonly redis: string;
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
  /** Stops the watches, removes its heartbeat (readers see the publisher gone at once). */
  stop(): Promise<void>;
}

/** Fields per write and per change message: a message stays far below Redis's pub/sub buffer limit. */
const chunkFields = 1000;
/** Deletes the heartbeat only if it is still this publisher's (a rollout's new pod may own it). */
const deleteIfOwn = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * The enricher service of shared mode: one process watches the cluster and mirrors its cache
 * into Redis, so a thousand forwarders read metadata from Redis instead of each holding
 * cluster-wide watches. Writes are gathered for `flushMillis` and announced with their new values;
 * after a failed write the whole cache is written again (a change may have been lost). One
 * publisher per key prefix: a second one's full writes would delete what the first just wrote.
 */
export function startEnricherPublisher(options: PublisherOptions): EnricherPublisher {
  const prefix = options.keyPrefix ?? defaultKeyPrefix;
  if (typeof prefix !== 'string' || prefix === '') throw invalidOption('keyPrefix', 'a non-empty string', prefix);
  const keys = sharedKeys(prefix);
  const flushMillis = options.flushMillis ?? 50;
  const heartbeatMillis = options.heartbeatMillis ?? 5000;
  const redis = new Redis(options.redis, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    // A hung connection fails the write (then everything is written again) instead of blocking forever.
    commandTimeout: 10_000,
  });
  redis.on('error', () => undefined); // reported through a failed write and stats, not an unhandled event
  const owner = randomUUID();

  /** Fields to write again (a pod's old and new names both), namespaces and controllers whose pods changed. */
  const pending = { fields: new Set<string>(), namespaces: new Set<string>(), owners: new Set<string>() };
  const counts = { fullPublishes: 0, fieldsPublished: 0, errors: 0 };
  let lastError: string | null = null;
  let needsFull = true;
  let published = false;
  let stopped = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

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
    else pending.owners.add(ownerKey(change.namespace, change.controller));
    schedule();
  };
  const { enricher, cache } = createWatchingEnricher(options.enricher ?? {}, onChange);

  /** Each field's current value, every pod's lookup encoded once however many names it has. */
  const valuesOf = (fields: Iterable<string>): Map<string, string | null> => {
    const encoded = new Map<PodMetadata, string>();
    const values = new Map<string, string | null>();
    for (const field of fields) {
      const query = queryOfField(field);
      const found = query === undefined ? undefined : cache.lookup(query);
      if (found === undefined) {
        values.set(field, null);
        continue;
      }
      let json = encoded.get(found.pod);
      if (json === undefined) encoded.set(found.pod, (json = encodeLookup(found)));
      values.set(field, json);
    }
    return values;
  };

  const recordError = (error: unknown): void => {
    counts.errors += 1;
    lastError = error instanceof Error ? error.message : String(error);
  };

  /** Writes the values chunk by chunk, announcing each chunk's changes (`announce`) once written. */
  const writeFields = async (values: Map<string, string | null>, announce: boolean): Promise<void> => {
    const entries = [...values];
    for (let start = 0; start < entries.length; start += chunkFields) {
      const chunk = entries.slice(start, start + chunkFields);
      const sets = chunk.filter((e): e is [string, string] => e[1] !== null).flat();
      const deletes = chunk.filter(([, value]) => value === null).map(([field]) => field);
      const batch = redis.multi();
      if (sets.length > 0) batch.hset(keys.pods, ...sets);
      if (deletes.length > 0) batch.hdel(keys.pods, ...deletes);
      // EXEC succeeds even when a command inside it failed: look at each answer.
      for (const [error] of (await batch.exec()) ?? []) if (error !== null) throw error;
      if (announce) {
        const message: ChangeMessage = { fields: Object.fromEntries(chunk) };
        await redis.publish(keys.changes, JSON.stringify(message));
      }
    }
  };

  const publishAll = async (): Promise<void> => {
    needsFull = false; // changes from here on are gathered for the next flush
    clearPending();
    const values = valuesOf(cache.allPods().flatMap(fieldsOfPod));
    for (const field of await redis.hkeys(keys.pods)) if (!values.has(field)) values.set(field, null);
    await writeFields(values, false);
    const resync: ChangeMessage = { resync: true };
    await redis.publish(keys.changes, JSON.stringify(resync));
    counts.fullPublishes += 1;
    published = true;
    await heartbeat();
  };

  const publishPending = async (): Promise<void> => {
    const fields = new Set(pending.fields);
    const namespaces = new Set([...pending.namespaces, ...[...pending.owners].map((key) => key.split('/')[0] ?? '')]);
    for (const namespace of namespaces) {
      for (const pod of cache.podsIn(namespace)) {
        const controller = pod.controller;
        const ownerChanged = controller !== undefined && pending.owners.has(ownerKey(pod.namespace, controller));
        if (pending.namespaces.has(namespace) || ownerChanged) for (const field of fieldsOfPod(pod)) fields.add(field);
      }
    }
    clearPending();
    if (fields.size === 0) return;
    await writeFields(valuesOf(fields), true);
    counts.fieldsPublished += fields.size;
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
        recordError(error);
        needsFull = true; // the retry timer (or the first-publish loop) writes everything again
      }
    });
    return writing;
  };

  const heartbeat = (): Promise<unknown> => redis.set(keys.publisher, owner, 'PX', heartbeatMillis * 3);
  const heartbeats = setInterval(() => {
    // A failed heartbeat changes no metadata: it is only reported.
    if (published && !needsFull) heartbeat().catch(recordError);
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
      await sleep(1000);
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
      await writing; // bounded by the command timeout
      await redis.eval(deleteIfOwn, 1, keys.publisher, owner).catch(() => undefined);
      redis.disconnect();
    },
  };
}
