import { EnricherError, EnricherErrorCodes } from './errors.js';
import type { KubeClient } from './kube-client.js';
import type { RawPod } from './metadata.js';

export interface FetchStats {
  readonly fetched: number;
  readonly notFound: number;
  readonly failed: number;
  readonly rateLimited: number;
}

export interface PodFetcherOptions {
  readonly ratePerSecond: number;
  readonly timeoutMillis: number;
  readonly negativeTtlMillis: number;
}

/**
 * The fallback for a pod the watch has not delivered yet (created a moment before its first
 * record): one GET per pod at a time (single-flight), at most `ratePerSecond`, each with a
 * timeout; a 404 is remembered for `negativeTtlMillis` — briefly, never forever.
 */
export class PodFetcher {
  private readonly inFlight = new Map<string, Promise<RawPod | undefined>>();
  private readonly notFoundUntil = new Map<string, number>();
  private tokens: number;
  private lastRefill = Date.now();
  private readonly counts = { fetched: 0, notFound: 0, failed: 0, rateLimited: 0 };

  constructor(
    private readonly client: KubeClient,
    private readonly options: PodFetcherOptions,
  ) {
    this.tokens = options.ratePerSecond;
  }

  stats(): FetchStats {
    return { ...this.counts };
  }

  /** Resolves with the pod, or undefined when it does not exist, is rate-limited or the GET failed. */
  fetch(namespace: string, name: string): Promise<RawPod | undefined> {
    const key = `${namespace}/${name}`;
    const existing = this.inFlight.get(key);
    if (existing !== undefined) return existing;
    const until = this.notFoundUntil.get(key);
    if (until !== undefined) {
      if (until > Date.now()) return Promise.resolve(undefined);
      this.notFoundUntil.delete(key);
    }
    if (!this.takeToken()) {
      this.counts.rateLimited += 1;
      return Promise.resolve(undefined);
    }
    const request = this.get(namespace, name).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, request);
    return request;
  }

  private async get(namespace: string, name: string): Promise<RawPod | undefined> {
    try {
      const pod = await this.client.getJson<RawPod>(
        `/api/v1/namespaces/${namespace}/pods/${name}`,
        {},
        this.options.timeoutMillis,
      );
      this.counts.fetched += 1;
      return pod;
    } catch (error) {
      if (error instanceof EnricherError && error.code === EnricherErrorCodes.apiStatus && error.status === 404) {
        this.counts.notFound += 1;
        this.notFoundUntil.set(`${namespace}/${name}`, Date.now() + this.options.negativeTtlMillis);
      } else {
        this.counts.failed += 1;
      }
      return undefined;
    }
  }

  private takeToken(): boolean {
    const now = Date.now();
    this.tokens = Math.min(
      this.options.ratePerSecond,
      this.tokens + ((now - this.lastRefill) / 1000) * this.options.ratePerSecond,
    );
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
