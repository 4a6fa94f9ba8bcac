import { setTimeout as sleep } from 'node:timers/promises';
import { EnricherError, EnricherErrorCodes } from './errors.js';
import { statusError, type KubeClient, type WatchEventType } from './kube-client.js';

export type WatchState = 'starting' | 'listing' | 'watching' | 'backoff' | 'stopped';

export interface WatchStats {
  readonly resource: string;
  readonly state: WatchState;
  /** Restarts after an error (each one waited a backoff). */
  readonly restarts: number;
  /** Full lists: the first, after a 410, after a stall. */
  readonly relists: number;
  readonly events: number;
  readonly stalls: number;
  readonly lastActivityAt: number;
  readonly lastError: string | null;
}

export interface ResourceHandlers<T> {
  /** An object from a list page or an ADDED/MODIFIED event. */
  upsert(object: T): void;
  /** A DELETED event. */
  remove(object: T): void;
  /** A full list is complete: `uids` are all objects that exist now (others were deleted meanwhile). */
  listed(uids: ReadonlySet<string>): void;
}

export interface ResourceWatchOptions<T> {
  /** Human name for states and errors, e.g. "pods". */
  readonly resource: string;
  /** Collection path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly fieldSelector?: string;
  readonly handlers: ResourceHandlers<T>;
  readonly pageSize: number;
  readonly requestTimeoutMillis: number;
  /** No event, bookmark or reconnect for this long → the watch is presumed dead and restarted. */
  readonly stallMillis: number;
  readonly backoffInitialMillis: number;
  readonly backoffMaxMillis: number;
}

interface Listed {
  items?: (Record<string, unknown> & { metadata?: { uid?: string } })[];
  metadata?: { resourceVersion?: string; continue?: string };
}

interface ObjectMeta {
  metadata?: { resourceVersion?: string; uid?: string };
  code?: number;
  message?: string;
}

/**
 * List, then watch from the list's resourceVersion with bookmarks, forever: a 410 re-lists, a clean
 * end re-watches, any other error restarts after a jittered exponential backoff (never a tight
 * loop), and a watch silent for `stallMillis` is restarted. State is exposed for metrics.
 */
export class ResourceWatch<T> {
  private state: WatchState = 'starting';
  private restarts = 0;
  private relists = 0;
  private events = 0;
  private stalls = 0;
  private lastActivityAt = Date.now();
  private lastError: string | null = null;
  private resourceVersion: string | undefined;
  private needList = true;
  private stopped = false;
  private current: AbortController | undefined;
  /** A stall restart was asked for while the watch request was still connecting. */
  private abortOnConnect = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly stopSignal = new AbortController();
  private resolveSynced!: () => void;
  /** Resolves after the first complete list. */
  readonly synced = new Promise<void>((resolve) => (this.resolveSynced = resolve));
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: ResourceWatchOptions<T>,
  ) {}

  start(): void {
    this.loop ??= this.run();
    this.stallTimer = setInterval(() => this.checkStall(), Math.max(250, Math.floor(this.options.stallMillis / 4)));
    this.stallTimer.unref();
  }

  stats(): WatchStats {
    return {
      resource: this.options.resource,
      state: this.state,
      restarts: this.restarts,
      relists: this.relists,
      events: this.events,
      stalls: this.stalls,
      lastActivityAt: this.lastActivityAt,
      lastError: this.lastError,
    };
  }

  private abortCurrent(): void {
    if (this.current === undefined) this.abortOnConnect = true;
    else this.current.abort();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    clearInterval(this.stallTimer);
    this.stopSignal.abort();
    this.current?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (this.needList) await this.list();
        this.state = 'watching';
        await this.watchOnce();
        failures = 0;
      } catch (error) {
        if (this.stopSignal.signal.aborted) break;
        this.lastError = error instanceof Error ? error.message : String(error);
        if (error instanceof EnricherError && error.code === EnricherErrorCodes.resourceExpired) {
          this.needList = true; // too old: re-list at once, no backoff
          continue;
        }
        this.restarts += 1;
        this.state = 'backoff';
        const ceiling = Math.min(
          this.options.backoffMaxMillis,
          this.options.backoffInitialMillis * 2 ** Math.min(failures, 16),
        );
        failures += 1;
        await sleep(ceiling / 2 + Math.random() * (ceiling / 2), undefined, { signal: this.stopSignal.signal }).catch(
          () => undefined,
        );
      }
    }
    this.state = 'stopped';
  }

  private async list(): Promise<void> {
    this.state = 'listing';
    const uids = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.client.getJson<Listed>(
        this.options.path,
        { limit: this.options.pageSize, continue: continueToken, fieldSelector: this.options.fieldSelector },
        this.options.requestTimeoutMillis,
      );
      for (const item of page.items ?? []) {
        const uid = item.metadata?.uid;
        if (uid !== undefined) uids.add(uid);
        this.options.handlers.upsert(item as T);
      }
      continueToken = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
      resourceVersion = page.metadata?.resourceVersion;
    } while (continueToken !== undefined && !this.stopped);
    this.options.handlers.listed(uids);
    this.resourceVersion = resourceVersion;
    this.needList = false;
    this.relists += 1;
    this.lastActivityAt = Date.now();
    this.resolveSynced();
  }

  /** One watch request, until the server ends it (resolves) or it fails (rejects). */
  private watchOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let gone: EnricherError | undefined;
      const onEvent = (type: WatchEventType, object: unknown): void => {
        this.lastActivityAt = Date.now();
        const meta = object as ObjectMeta;
        if (type === 'ERROR') {
          // The server ends a watch whose resourceVersion is too old with an ERROR event (410).
          gone = statusError(
            meta.code ?? 500,
            `watch ${this.options.resource}`,
            this.client.server,
            JSON.stringify(meta),
          );
          this.current?.abort();
          return;
        }
        const version = meta.metadata?.resourceVersion;
        if (version !== undefined) this.resourceVersion = version;
        if (type === 'BOOKMARK') return;
        this.events += 1;
        if (type === 'DELETED') this.options.handlers.remove(object as T);
        else this.options.handlers.upsert(object as T);
      };
      const onDone = (error: unknown): void => {
        this.current = undefined;
        if (gone !== undefined) reject(gone);
        else if (error === null || error === undefined || this.stopped || isAbortOrTimeout(error)) resolve();
        else reject(toEnricherError(error, this.options.resource, this.client.server));
      };
      // Held before connecting, so that a stall check or stop() can abort a watch still connecting.
      const controller = new AbortController();
      this.current = controller;
      if (this.stopped || this.abortOnConnect) {
        this.abortOnConnect = false;
        controller.abort();
      }
      this.client
        .watch(
          this.options.path,
          {
            watch: true,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            fieldSelector: this.options.fieldSelector,
            // Server-side end after 4–5 min, jittered so a fleet does not reconnect in step.
            timeoutSeconds: 240 + Math.floor(Math.random() * 60),
          },
          onEvent,
          onDone,
          controller,
          this.options.requestTimeoutMillis,
        )
        .then(
          () => {
            this.lastActivityAt = Date.now();
          },
          (error: unknown) => {
            // Refused, unanswered, or aborted while connecting (a stall check: try again).
            this.current = undefined;
            if (this.stopped) resolve();
            else reject(toEnricherError(error, this.options.resource, this.client.server));
          },
        );
    });
  }

  private checkStall(): void {
    if (this.state !== 'watching' || Date.now() - this.lastActivityAt < this.options.stallMillis) return;
    this.stalls += 1;
    this.lastError = `watch ${this.options.resource} silent for ${this.options.stallMillis} ms: restarted`;
    this.needList = true;
    this.lastActivityAt = Date.now();
    this.abortCurrent();
  }
}

function isAbortOrTimeout(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'AbortError' || name === 'TimeoutError';
}

function toEnricherError(error: unknown, resource: string, server: string): EnricherError {
  if (error instanceof EnricherError) return error;
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== undefined) return statusError(status, `watch ${resource}`, server);
  return new EnricherError(
    EnricherErrorCodes.apiUnreachable,
    `watch ${resource} on ${server} failed: ${(error as Error).message}`,
    {
      retriable: true,
      cause: error,
    },
  );
}
