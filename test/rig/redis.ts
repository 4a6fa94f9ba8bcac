import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { freePort, startService, waitUntilReady, type ServiceProcess } from './process.js';

export interface RedisEndpoint {
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

export interface RedisStartOptions {
  readonly dir: string;
  readonly ownerPid?: number;
  /** A fixed port, e.g. to restart a stopped Redis where its clients expect it. @defaultValue a free one */
  readonly port?: number;
  /** Keep data across restarts (append-only file, fsync always), as a dead-letter Redis should. @defaultValue false */
  readonly persistent?: boolean;
}

/** Debian's redis-server on a loopback port, without persistence unless asked, its files in `dir`. */
export async function startRedis(
  options: RedisStartOptions,
): Promise<{ endpoint: RedisEndpoint; process: ServiceProcess }> {
  mkdirSync(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const service = startService({
    name: 'redis',
    command: 'redis-server',
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      options.dir,
      '--save',
      '',
      '--appendonly',
      options.persistent === true ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--daemonize',
      'no',
      // BullMQ requires that Redis never evicts its keys.
      '--maxmemory-policy',
      'noeviction',
    ],
    logFile: join(options.dir, 'redis.log'),
    ...(options.ownerPid === undefined ? {} : { ownerPid: options.ownerPid }),
  });
  await waitUntilReady(service, () => answersPing(port), 20_000);
  return { endpoint: { url: `redis://127.0.0.1:${port}`, host: '127.0.0.1', port }, process: service };
}

/** Readiness: a raw RESP PING answered with +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => socket.destroy(new Error('PING timed out')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      socket.end();
      resolve(data.toString('latin1').startsWith('+PONG'));
    });
  });
}
