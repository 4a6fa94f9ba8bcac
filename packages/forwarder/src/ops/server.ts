import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from 'prom-client';

/** One readiness condition: the group joined, the sink reachable, the enricher synced… */
export interface Check {
  readonly ok: boolean;
  /** Why not, in words an operator can act on. */
  readonly detail?: string;
}

export interface OpsServerOptions {
  readonly port: number;
  /** @defaultValue "0.0.0.0" (probes come from the kubelet) */
  readonly host?: string;
  readonly registry: Registry;
  readonly readiness: () => Readonly<Record<string, Check>>;
  /** Liveness fails when the event loop was blocked longer than this. @defaultValue 5000 */
  readonly maxEventLoopDelayMillis?: number;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The admin port: `/metrics` (Prometheus text), `/healthz` (liveness: the event loop is responsive),
 * `/readyz` (every readiness check passes; otherwise 503 with each failing check and why).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const maxDelayMillis = options.maxEventLoopDelayMillis ?? 5000;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      void options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
      return;
    }
    if (path === '/healthz') {
      const worstMillis = delay.max / 1e6;
      delay.reset();
      const ok = worstMillis <= maxDelayMillis;
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok, eventLoopMaxDelayMillis: Math.round(worstMillis) }));
      return;
    }
    if (path === '/readyz') {
      const checks = options.readiness();
      const ready = Object.values(checks).every((check) => check.ok);
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready, checks }));
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(options.port, options.host ?? '0.0.0.0');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      delay.disable();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
