import { HttpMethod, RequestContext, Watch, type KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { EnricherError, EnricherErrorCodes } from './errors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** The API server as the enricher uses it: GET JSON and watch, plain objects, typed errors. */
export class KubeClient {
  private readonly watcher: Watch;

  constructor(private readonly config: KubeConfig) {
    this.watcher = new Watch(config);
    // client-node aborts a watch after 30 s without bytes; bookmarks come about once a minute, so a
    // quiet but healthy watch would be cut and re-opened all the time. Our own stall detection
    // (ResourceWatch) is what catches a dead one.
    (this.watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 150_000;
  }

  get server(): string {
    return this.config.getCurrentCluster()?.server ?? '(no cluster)';
  }

  async getJson<T>(
    path: string,
    query: Record<string, string | number | undefined>,
    timeoutMillis: number,
  ): Promise<T> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    const context = new RequestContext(url.toString(), HttpMethod.GET);
    await this.config.applySecurityAuthentication(context);
    let response;
    try {
      const dispatcher = context.getDispatcher();
      response = await fetch(url, {
        headers: context.getHeaders(),
        ...(dispatcher === undefined ? {} : { dispatcher }),
        signal: AbortSignal.timeout(timeoutMillis),
      });
    } catch (error) {
      throw new EnricherError(
        EnricherErrorCodes.apiUnreachable,
        `GET ${url.pathname} on ${this.server} failed: ${(error as Error).message}`,
        {
          retriable: true,
          cause: error,
        },
      );
    }
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      throw statusError(response.status, `GET ${url.pathname}`, this.server, body);
    }
    return (await response.json()) as T;
  }

  /** Starts a watch; `onDone` gets null for a clean end, else the error. */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: WatchEventType, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<AbortController> {
    return this.watcher.watch(path, query, (type, object) => onEvent(type as WatchEventType, object), onDone);
  }
}

/** An HTTP status as an EnricherError: 410 → resourceExpired, 429/5xx retriable. */
export function statusError(status: number, what: string, server: string, body = ''): EnricherError {
  let reason: string;
  try {
    reason = (JSON.parse(body) as { message?: string }).message ?? '';
  } catch {
    reason = body.slice(0, 200);
  }
  const message = `${what} on ${server} answered ${status}${reason === '' ? '' : `: ${reason}`}`;
  if (status === 410)
    return new EnricherError(EnricherErrorCodes.resourceExpired, message, { status, retriable: true });
  return new EnricherError(EnricherErrorCodes.apiStatus, message, {
    status,
    retriable: status === 429 || status >= 500,
  });
}
