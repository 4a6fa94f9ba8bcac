import { ownIp, type PodMetadata } from '../metadata.js';
import { isRecord } from '../options.js';
import type { PodLookup, PodQuery } from '../pod-cache.js';

/**
 * How the shared cache lies in Redis. One hash holds every resolvable pod under each name a record
 * can give it — `u:<uid>`, `n:<namespace>/<pod>`, `i:<ip>` — each field the whole lookup as JSON,
 * so a reader answers any query with one HMGET. Changes are announced on a channel with the new
 * values (readers update what they hold, without asking again); a `resync` says "drop everything".
 */
export const defaultKeyPrefix = 'graybridge:enricher:';

export interface SharedKeys {
  /** Hash: field → lookup JSON. */
  readonly pods: string;
  /** Pub/sub channel of {@link ChangeMessage}s. */
  readonly changes: string;
  /** The publisher's id, with a TTL it refreshes, while it is alive and has synced. */
  readonly publisher: string;
}

export function sharedKeys(prefix: string): SharedKeys {
  return { pods: `${prefix}pods`, changes: `${prefix}changes`, publisher: `${prefix}publisher` };
}

export type ChangeMessage =
  | { readonly resync: true }
  /** Field → new lookup JSON, or null when nothing answers to that name any more. */
  | { readonly fields: Readonly<Record<string, string | null>> };

/** The fields a query can be answered from, in the order the local cache prefers them. */
export function fieldsOfQuery(query: PodQuery): string[] {
  const fields: string[] = [];
  if (query.podUid !== undefined) fields.push(`u:${query.podUid}`);
  if (query.namespace !== undefined && query.pod !== undefined) fields.push(`n:${query.namespace}/${query.pod}`);
  if (query.podIp !== undefined) fields.push(`i:${query.podIp}`);
  return fields;
}

/** The fields under which a pod can be found (its IP only when it has its own). */
export function fieldsOfPod(pod: PodMetadata): string[] {
  const fields = [`u:${pod.uid}`, `n:${pod.namespace}/${pod.name}`];
  const ip = ownIp(pod);
  if (ip !== undefined) fields.push(`i:${ip}`);
  return fields;
}

/** The query a field stands for (the inverse of the field names above). */
export function queryOfField(field: string): PodQuery | undefined {
  const value = field.slice(2);
  switch (field.slice(0, 2)) {
    case 'u:':
      return { podUid: value };
    case 'i:':
      return { podIp: value };
    case 'n:': {
      const slash = value.indexOf('/');
      return slash <= 0 ? undefined : { namespace: value.slice(0, slash), pod: value.slice(slash + 1) };
    }
    default:
      return undefined;
  }
}

export function encodeLookup(lookup: PodLookup): string {
  return JSON.stringify(lookup);
}

/**
 * A lookup read back from Redis, or undefined when it is not one (another writer, an older
 * layout): a wrong entry must read as a miss, never as metadata of the wrong shape.
 */
export function decodeLookup(json: string): PodLookup | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || !isRecord(value.pod) || typeof value.deleted !== 'boolean') return undefined;
  const pod = value.pod;
  const valid =
    typeof pod.name === 'string' &&
    typeof pod.namespace === 'string' &&
    typeof pod.uid === 'string' &&
    isRecord(pod.labels) &&
    isRecord(pod.annotations) &&
    Array.isArray(pod.containers) &&
    isRecord(pod.controls) &&
    typeof pod.controls.exclude === 'boolean' &&
    Array.isArray(pod.controls.excludeContainers);
  return valid ? (value as unknown as PodLookup) : undefined;
}

export function parseChangeMessage(text: string): ChangeMessage | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (isRecord(value) && value.resync === true) return { resync: true };
    if (isRecord(value) && isRecord(value.fields)) {
      const fields: Record<string, string | null> = {};
      for (const [field, json] of Object.entries(value.fields)) {
        if (typeof json === 'string' || json === null) fields[field] = json;
      }
      return { fields };
    }
  } catch {
    // not ours: ignored below
  }
  return undefined;
}
