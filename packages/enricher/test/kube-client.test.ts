import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { clusterAccessFrom } from '../src/cluster-access.js';
import { KubeClient } from '../src/kube-client.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'kube-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A plain-HTTP endpoint on loopback answering with `handler`, and a client for it. */
async function serving(
  handler: (response: ServerResponse) => void,
): Promise<{ server: Server; client: KubeClient; close: () => void }> {
  const server = createServer((_request, response) => handler(response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const file = join(dir, `kubeconfig-${port}`);
  writeFileSync(
    file,
    JSON.stringify({
      'current-context': 'x',
      contexts: [{ name: 'x', context: { cluster: 'c' } }],
      clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }],
    }),
  );
  const client = new KubeClient(clusterAccessFrom(file, {}));
  const close = (): void => {
    client.close();
    server.closeAllConnections();
    server.close();
  };
  return { server, client, close };
}

describe('KubeClient on the wire', () => {
  it('gives up on a watch the server accepts and never answers, and can be aborted while connecting', async () => {
    const { client, close } = await serving(() => undefined); // holds every request
    try {
      const started = Date.now();
      await assert.rejects(
        client.watch(
          '/api/v1/pods',
          {},
          () => undefined,
          () => undefined,
          new AbortController(),
          300,
        ),
        (error: Error) => error.name === 'TimeoutError' && /no answer within 300 ms/.test(error.message),
      );
      assert.ok(Date.now() - started < 5000);
      const controller = new AbortController();
      const watching = client.watch(
        '/api/v1/pods',
        {},
        () => undefined,
        () => undefined,
        controller,
        60_000,
      );
      setTimeout(() => controller.abort(), 100);
      await assert.rejects(watching, (error: Error) => error.name === 'AbortError');
    } finally {
      close();
    }
  });

  it('streams events, ends with the error a handler throws, and a reset mid-stream is an error, not a crash', async () => {
    const { server, client, close } = await serving((response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"type":"ADDED","object":{"n":1}}\n{"type":"ADDED","object":{"n":2}}\n');
    });
    try {
      const seen: unknown[] = [];
      const ended = new Promise<unknown>((resolve) => {
        void client.watch(
          '/api/v1/pods',
          {},
          (_type, object) => {
            seen.push(object);
            if (seen.length === 2) throw new Error('handler bug');
          },
          resolve,
          new AbortController(),
          5000,
        );
      });
      assert.equal(((await ended) as Error).message, 'handler bug');
      assert.deepEqual(seen, [{ n: 1 }, { n: 2 }]);

      const reset = new Promise<unknown>((resolve) => {
        void client.watch('/api/v1/pods', {}, () => server.closeAllConnections(), resolve, new AbortController(), 5000);
      });
      const error = (await reset) as Error | null;
      assert.ok(error instanceof Error, `a reset ends the watch with an error (got ${String(error)})`);
    } finally {
      close();
    }
  });

  it('holds a request to one deadline, body included', async () => {
    const { client, close } = await serving((response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"items":['); // and never more
    });
    try {
      await assert.rejects(
        client.getJson('/api/v1/pods', {}, 300),
        /GET \/api\/v1\/pods on http:\/\/127\.0\.0\.1:\d+ failed: no complete answer within 300 ms/,
      );
    } finally {
      close();
    }
  });
});
