import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Enricher, SharedReaderStats } from '../enricher.js';
import { invalidOption } from '../errors.js';
import { integer } from '../options.js';
import type { PodLookup, PodQuery } from '../pod-cache.js';
import { decodeLookup, defaultKeyPrefix, fieldsOfQuery, parseChangeMessage, sharedKeys } from './layout.js';

export interface SharedReaderOptions {
  /** `redis://…` / `rediss://…` URL. */
  readonly redis: string;
  /** @defaultValue "graybridge:enricher:" */
  readonly keyPrefix?: string;
  /** Entries of the local LRU (each pod is held under the names records gave it). @defaultValue 10000 */
  readonly cacheEntries?: number;
  /** A held entry is read again after this long even without a change message (a lost message heals). @defaultValue 300000 */
  readonly entryTtlMillis?: number;
  /** How long "no such pod" is held before Redis is asked again. @defaultValue 5000 */
  readonly negativeTtlMillis?: number;
  /** Bound on one HMGET: past it the records go on unresolved. @defaultValue 1000 */
  readonly readTimeoutMillis?: number;
}

interface Slot {
  readonly lookup: PodLookup | undefined;
  readonly expiresAt: number;
}

/**
 * The forwarder's side of shared mode: metadata read from what the enricher service publishes,
 * through a local LRU. `lookup` stays synchronous: `prefetch` (once per batch) fills the LRU with
 * one HMGET for whatever the batch's records name and the LRU lacks. Change messages update held
 * entries in place; a reconnect or a publisher restart drops them all (messages may be lost).
 */
export function createSharedEnricher(options: SharedReaderOptions): Enricher {
  if (typeof options.redis !== 'string' || !/^rediss?:\/\//.test(options.redis)) {
    throw invalidOption('redis', 'a redis:// or rediss:// URL', options.redis);
  }
  const prefix = options.keyPrefix ?? defaultKeyPrefix;
  if (typeof prefix !== 'string' || prefix === '') throw invalidOption('keyPrefix', 'a non-empty string', prefix);
  const capacity = integer(options.cacheEntries, 'cacheEntries', 1, 10_000);
  const entryTtl = integer(options.entryTtlMillis, 'entryTtlMillis', 1, 300_000);
  const negativeTtl = integer(options.negativeTtlMillis, 'negativeTtlMillis', 1, 5000);
  const readTimeout = integer(options.readTimeoutMillis, 'readTimeoutMillis', 1, 1000);
  const keys = sharedKeys(prefix);

  const connection = { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: readTimeout };
  const redis = new Redis(options.redis, connection);
  // The subscription waits for the connection (and is renewed by ioredis after a reconnect).
  const subscriber = new Redis(options.redis, { maxRetriesPerRequest: null, enableOfflineQueue: true });
  const lru = new Map<string, Slot>();
  const inFlight = new Map<string, Promise<void>>();
  /** Fields a change message set while a read of them was under way: the read's answer is older. */
  const newerThanRead = new Set<string>();
  const counts = { hits: 0, staleHits: 0, misses: 0, reads: 0, fieldsRead: 0, readErrors: 0 };
  const shared = { invalidations: 0, resyncs: 0 };
  let lastError: string | null = null;
  let publisherAlive = false;
  let stopped = false;
  /** After a failed read, no new one for a second: a batch's misses must not each wait the timeout. */
  let readsPausedUntil = 0;
  let subscribedOnce = false;
  /** Read through a function: `stop()` changes it while loops await. */
  const isStopped = (): boolean => stopped;

  const remember = (field: string, lookup: PodLookup | undefined): void => {
    lru.delete(field);
    lru.set(field, { lookup, expiresAt: Date.now() + (lookup === undefined ? negativeTtl : entryTtl) });
    if (lru.size > capacity) {
      const oldest = lru.keys().next();
      if (oldest.done !== true) lru.delete(oldest.value);
    }
  };

  const dropAll = (): void => {
    lru.clear();
    shared.resyncs += 1;
    for (const field of inFlight.keys()) newerThanRead.add(field);
  };
  const failed = (error: unknown): void => {
    lastError = error instanceof Error ? error.message : String(error);
  };
  redis.on('error', failed);
  subscriber.on('error', failed);
  // Messages sent while the subscription was down are lost: what is held may be stale. Dropped once
  // the subscription is back (ioredis renews it after 'ready'), so nothing read meanwhile is missed.
  subscriber.on('ready', () => {
    if (!subscribedOnce) return;
    subscriber.subscribe(keys.changes).then(dropAll, failed);
  });
  subscriber.on('message', (_channel: string, text: string) => {
    const message = parseChangeMessage(text);
    if (message === undefined) return;
    if ('resync' in message) {
      dropAll();
      return;
    }
    for (const [field, json] of Object.entries(message.fields)) {
      const reading = inFlight.has(field);
      if (!lru.has(field) && !reading) continue; // not ours to hold
      remember(field, json === null ? undefined : decodeLookup(json));
      if (reading) newerThanRead.add(field);
      shared.invalidations += 1;
    }
  });
  const subscribed = subscriber.subscribe(keys.changes).then(() => (subscribedOnce = true), failed);

  /** One HMGET for the fields not held (or expired) and not already being read. */
  const read = (fields: readonly string[]): Promise<void> => {
    const now = Date.now();
    const wanted = fields.filter((field) => {
      const slot = lru.get(field);
      return (slot === undefined || slot.expiresAt <= now) && !inFlight.has(field);
    });
    const waits = fields.flatMap((field) => inFlight.get(field) ?? []);
    if (wanted.length > 0 && !stopped && now >= readsPausedUntil) {
      for (const field of wanted) newerThanRead.delete(field);
      const done = redis.hmget(keys.pods, ...wanted).then(
        (values) => {
          counts.reads += 1;
          counts.fieldsRead += wanted.length;
          wanted.forEach((field, index) => {
            if (newerThanRead.delete(field)) return;
            const json = values[index];
            remember(field, json === null || json === undefined ? undefined : decodeLookup(json));
          });
        },
        (error: unknown) => {
          counts.readErrors += 1;
          readsPausedUntil = Date.now() + 1000;
          lastError = `reading ${keys.pods}: ${error instanceof Error ? error.message : String(error)}`;
        },
      );
      const settled = done.finally(() => {
        for (const field of wanted) {
          if (inFlight.get(field) === settled) inFlight.delete(field);
          newerThanRead.delete(field);
        }
      });
      for (const field of wanted) inFlight.set(field, settled);
      waits.push(settled);
    }
    return Promise.all(waits).then(() => undefined);
  };

  const held = (query: PodQuery): { found: PodLookup | undefined; missing: string[] } => {
    const now = Date.now();
    const missing: string[] = [];
    for (const field of fieldsOfQuery(query)) {
      const slot = lru.get(field);
      if (slot === undefined || slot.expiresAt <= now) missing.push(field);
      else if (slot.lookup !== undefined) {
        // Least recently used goes first: a hit moves to the back.
        lru.delete(field);
        lru.set(field, slot);
        return { found: slot.lookup, missing: [] };
      }
    }
    return { found: undefined, missing };
  };

  const count = (found: PodLookup | undefined): PodLookup | undefined => {
    if (found === undefined) counts.misses += 1;
    else if (found.deleted) counts.staleHits += 1;
    else counts.hits += 1;
    return found;
  };

  const checkPublisher = async (): Promise<boolean> => {
    publisherAlive = (await redis.exists(keys.publisher).catch(() => 0)) === 1;
    return publisherAlive;
  };
  const publisherTimer = setInterval(() => void checkPublisher(), 5000);
  publisherTimer.unref();

  const ready = (async () => {
    await subscribed;
    while (!isStopped() && !(await checkPublisher())) await sleep(500, undefined, { ref: false });
  })();

  return {
    ready: () => ready,
    lookup(query) {
      const { found, missing } = held(query);
      if (found === undefined && missing.length > 0) void read(missing);
      return count(found);
    },
    async resolve(query) {
      const { found, missing } = held(query);
      if (found !== undefined || missing.length === 0) return count(found);
      await read(missing);
      return count(held(query).found);
    },
    async prefetch(queries) {
      const missing = new Set<string>();
      for (const query of queries) for (const field of held(query).missing) missing.add(field);
      // More than the cache holds would evict the batch's own answers before its lookups.
      if (missing.size > 0) await read([...missing].slice(0, capacity));
    },
    stats: () => ({
      mode: 'redis',
      watches: [],
      // Distinct pods held (a pod may be held under its uid, name and IP).
      cachedPods: new Set([...lru.values()].flatMap((slot) => slot.lookup?.pod.uid ?? [])).size,
      hits: counts.hits,
      staleHits: counts.staleHits,
      misses: counts.misses,
      fetches: { fetched: 0, notFound: 0, failed: 0, rateLimited: 0 },
      owners: { lookups: 0, failures: 0 },
      shared: {
        connected: redis.status === 'ready' && subscriber.status === 'ready',
        publisherAlive,
        reads: counts.reads,
        fieldsRead: counts.fieldsRead,
        readErrors: counts.readErrors,
        ...shared,
        lastError,
      } satisfies SharedReaderStats,
    }),
    async stop() {
      stopped = true;
      clearInterval(publisherTimer);
      await Promise.allSettled(inFlight.values());
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
