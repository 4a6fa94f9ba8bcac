import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { createInterface } from 'node:readline';
import type { ClusterAccess } from './cluster-access.js';
import { EnricherError, EnricherErrorCodes } from './errors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

type Query = Record<string, string | number | boolean | undefined>;

/** The API server as the enricher uses it: JSON requests and watches, plain objects, typed errors. */
export class KubeClient {
  /** Keep-alive connections for requests; each watch holds one of its own for minutes. */
  private readonly agent: HttpAgent;

  constructor(private readonly access: ClusterAccess) {
    const options = { keepAlive: true, maxSockets: 8 };
    this.agent = access.server.startsWith('http://') ? new HttpAgent(options) : new HttpsAgent(options);
  }

  get server(): string {
    return this.access.server;
  }

  getJson<T>(path: string, query: Query, timeoutMillis: number): Promise<T> {
    return this.requestJson<T>('GET', path, query, undefined, timeoutMillis);
  }

  async requestJson<T>(
    method: 'GET' | 'POST',
    path: string,
    query: Query,
    body: unknown,
    timeoutMillis: number,
  ): Promise<T> {
    const what = `${method} ${path}`;
    // One deadline for all of it: waiting for a socket, the answer and its body.
    const signal = AbortSignal.timeout(timeoutMillis);
    const failed = (error: unknown): EnricherError =>
      this.unreachable(what, signal.aborted ? new Error(`no complete answer within ${timeoutMillis} ms`) : error);
    const response = await this.open(method, path, query, body, { agent: this.agent, signal }).catch(
      (error: unknown) => {
        throw failed(error);
      },
    );
    const text = await readText(response).catch((error: unknown) => {
      throw failed(error);
    });
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw statusError(status, what, this.server, text);
    return JSON.parse(text) as T;
  }

  /**
   * Starts a watch: resolves once the server answered 200 within `connectTimeoutMillis` (else
   * rejects), then streams events; `onDone` gets null for a clean end, else the error (an
   * AbortError once `controller` aborts it — which it may at any time, connecting included). An
   * error thrown by `onEvent` ends the watch with that error.
   */
  async watch(
    path: string,
    query: Query,
    onEvent: (type: WatchEventType, object: unknown) => void,
    onDone: (error: unknown) => void,
    controller: AbortController,
    connectTimeoutMillis: number,
  ): Promise<void> {
    const response = await this.open('GET', path, query, undefined, {
      signal: controller.signal,
      answerWithinMillis: connectTimeoutMillis,
    });
    const onAbort = (): void => {
      response.destroy();
      finish(abortError());
    };
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      const text = await readText(response).catch(() => '');
      throw statusError(status, `watch ${path}`, this.server, text);
    }
    let done = false;
    const finish = (error: unknown): void => {
      if (done) return;
      done = true;
      onDone(error);
    };
    const lines = createInterface({ input: response, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (line.trim() === '') return;
      let event: { type?: WatchEventType; object?: unknown };
      try {
        event = JSON.parse(line) as typeof event;
      } catch (error) {
        finish(error);
        response.destroy();
        return;
      }
      try {
        if (event.type !== undefined) onEvent(event.type, event.object);
      } catch (error) {
        finish(error);
        response.destroy();
      }
    });
    lines.on('close', () => finish(controller.signal.aborted ? abortError() : null));
    // readline re-emits its input's errors (a connection reset mid-stream is one) on itself.
    lines.on('error', (error) => finish(controller.signal.aborted ? abortError() : error));
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  }

  /** One request; resolves with the response once its headers arrived. */
  private async open(
    method: 'GET' | 'POST',
    path: string,
    query: Query,
    body: unknown,
    options: { agent?: HttpAgent; signal: AbortSignal; answerWithinMillis?: number },
  ): Promise<IncomingMessage> {
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    const auth = await this.access.requestOptions();
    // Credentials give headers as an object (never Node's raw [name, value, …] list).
    const authHeaders = (Array.isArray(auth.headers) ? {} : (auth.headers ?? {})) as OutgoingHttpHeaders;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const requestOptions: RequestOptions = {
      ...auth,
      method,
      headers: {
        ...authHeaders,
        Accept: 'application/json',
        ...(payload === undefined
          ? {}
          : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
      },
      // A watch gets its own connection; credentials that set an agent (a proxy) keep it.
      ...(auth.agent === undefined && options.agent !== undefined ? { agent: options.agent } : {}),
      signal: options.signal,
    };
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(url, requestOptions, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      // Until the answer's headers: a server that accepts and never answers is given up on.
      const timer =
        options.answerWithinMillis === undefined
          ? undefined
          : setTimeout(() => {
              const error = new Error(`no answer within ${options.answerWithinMillis} ms`);
              request.destroy(Object.assign(error, { name: 'TimeoutError' }));
            }, options.answerWithinMillis);
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.end(payload);
    });
  }

  private unreachable(what: string, error: unknown): EnricherError {
    return new EnricherError(
      EnricherErrorCodes.apiUnreachable,
      `${what} on ${this.server} failed: ${(error as Error).message}`,
      {
        retriable: true,
        cause: error,
      },
    );
  }

  /** Closes the idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

function abortError(): Error {
  return Object.assign(new Error('the watch was aborted'), { name: 'AbortError' });
}

async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
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
