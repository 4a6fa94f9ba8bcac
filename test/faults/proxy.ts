// A TCP proxy in front of a GELF endpoint that misbehaves on command, as a sick Graylog or a
// flaky load balancer does: refuses connections (down), delays every write (slow), or resets
// connections mid-stream. Bytes that pass arrive in order and whole.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@graybridge/rig';

export type ProxyMode = { readonly kind: 'pass' } | { readonly kind: 'slow'; readonly millisPerWrite: number };

export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private mode: ProxyMode = { kind: 'pass' };
  private resetTimer: NodeJS.Timeout | undefined;
  /** Connections reset so far. */
  resets = 0;

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  /** Listens on `port` (a free one by default), so that it can go down and come back there. */
  static async start(targetPort: number, port?: number): Promise<FaultProxy> {
    const proxy = new FaultProxy(port ?? (await freePort()), targetPort);
    await proxy.listen();
    return proxy;
  }

  private listen(): Promise<void> {
    const server = createServer((client) => this.handle(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  private handle(client: Socket): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    // What the proxy has read from a client still reaches the endpoint after the client is gone
    // (as bytes in Graylog's socket buffer would); what it has not read yet is lost with the reset.
    let queue = Promise.resolve();
    const clientGone = (): void => {
      this.sockets.delete(client);
      queue = queue.then(() => void upstream.end());
    };
    client.on('close', clientGone).on('error', clientGone);
    const upstreamGone = (): void => {
      this.sockets.delete(upstream);
      client.destroy();
    };
    upstream.on('close', upstreamGone).on('error', upstreamGone);
    // Writes are delayed one after another, so that bytes keep their order.
    client.on('data', (chunk: Buffer) => {
      const mode = this.mode;
      if (mode.kind === 'pass') {
        queue = queue.then(() => void upstream.write(chunk));
        return;
      }
      client.pause();
      queue = queue.then(async () => {
        await sleep(mode.millisPerWrite);
        upstream.write(chunk);
        client.resume();
      });
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
  }

  /** Every `millis`, every open connection is reset (RST, not FIN). */
  resetEvery(millis: number): void {
    this.stopResetting();
    this.resetTimer = setInterval(() => {
      for (const socket of this.sockets) {
        if (socket.remotePort === this.targetPort) continue; // the client side only, as Graylog would
        this.resets += 1;
        socket.resetAndDestroy();
      }
    }, millis);
  }

  stopResetting(): void {
    if (this.resetTimer) clearInterval(this.resetTimer);
    this.resetTimer = undefined;
  }

  /** Stops listening and drops every connection: the endpoint is gone. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    this.stopResetting();
    await this.down();
  }
}
