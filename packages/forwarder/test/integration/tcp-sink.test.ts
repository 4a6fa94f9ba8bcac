import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, makeServerCertificate, until, untilCount } from '@graybridge/rig';
import { startGelfReceiver, type ReceivedMessage } from '../../src/receiver/server.js';
import { TcpSink } from '../../src/sink/tcp.js';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function certificates(): { ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tcp-sink-tls-'));
  dirs.push(dir);
  const files = makeServerCertificate(dir, 'graylog');
  return {
    ca: readFileSync(files.caCert, 'utf8'),
    cert: readFileSync(files.cert, 'utf8'),
    key: readFileSync(files.key, 'utf8'),
  };
}

const batchOf = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    json: JSON.stringify({ version: '1.1', host: 'h', short_message: `m${from + i}`, _seq: from + i }),
  }));

/** A raw TCP endpoint listening on a free loopback port: the port. */
async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

describe('GELF TCP sink against a real endpoint', () => {
  it('delivers 2,000 messages in batches over pooled connections, each exactly once', async () => {
    const received: ReceivedMessage[] = [];
    const receiver = await startGelfReceiver({ tcp: { port: 0 }, onMessage: (m) => received.push(m) });
    const sink = new TcpSink({ host: '127.0.0.1', port: receiver.ports.tcp ?? 0, connections: 3 });
    try {
      for (let from = 0; from < 2000; from += 100) assert.equal((await sink.send(batchOf(from, 100))).kind, 'sent');
      await untilCount(received, 2000);
      const seqs = received.map((r) => r.message.fields.seq as number).sort((a, b) => a - b);
      assert.deepEqual(
        seqs,
        Array.from({ length: 2000 }, (_, i) => i),
      );
    } finally {
      await sink.close();
      await receiver.close();
    }
  });

  it('frames multi-byte text by its UTF-8 length, and survives payloads whose stated length is too short or too long', async () => {
    const received: ReceivedMessage[] = [];
    const receiver = await startGelfReceiver({ tcp: { port: 0 }, onMessage: (m) => received.push(m) });
    const sink = new TcpSink({ host: '127.0.0.1', port: receiver.ports.tcp ?? 0, connections: 1 });
    const text = (seq: number) =>
      JSON.stringify({ version: '1.1', host: 'h', short_message: `ünï ✓ 🎉 ${seq}`, _seq: seq });
    try {
      const stated = [0, 1, 2].map((seq) => ({ json: text(seq), bytes: Buffer.byteLength(text(seq)) }));
      const under = [3, 4].map((seq) => ({ json: text(seq), bytes: text(seq).length })); // UTF-16 units, too few
      const over = [5].map((seq) => ({ json: text(seq), bytes: Buffer.byteLength(text(seq)) + 7 }));
      for (const batch of [
        [...stated, ...under],
        [...over, ...stated],
      ])
        assert.equal((await sink.send(batch)).kind, 'sent');
      await untilCount(received, 9);
      assert.deepEqual(
        received.map((r) => r.message.message),
        [0, 1, 2, 3, 4, 5, 0, 1, 2].map((seq) => `ünï ✓ 🎉 ${seq}`),
      );
    } finally {
      await sink.close();
      await receiver.close();
    }
  });

  it('writes again what a connection took just before the endpoint reset it unread', async () => {
    // The first connection is never read and is reset once it holds the batch: the bytes die in
    // the endpoint's buffer though the write succeeded. Later connections are read normally.
    const frames: string[] = [];
    let connections = 0;
    const server = createServer((socket) => {
      connections += 1;
      if (connections === 1) {
        socket.pause();
        setTimeout(() => socket.resetAndDestroy(), 200);
        return;
      }
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        const parts = (pending + chunk.toString()).split('\0');
        pending = parts.pop() ?? '';
        frames.push(...parts);
      });
    });
    const sink = new TcpSink({ host: '127.0.0.1', port: await listening(server), connections: 1 });
    try {
      assert.equal((await sink.send(batchOf(0, 100))).kind, 'sent');
      await untilCount(frames, 100);
      assert.deepEqual(sink.resends(), { resent: 100, givenUp: 0 });
      assert.deepEqual(
        frames.map((frame) => (JSON.parse(frame) as { _seq: number })._seq),
        Array.from({ length: 100 }, (_, i) => i),
      );
    } finally {
      await sink.close();
      server.close();
    }
  });

  it('closing while the endpoint is down counts what still waited to be written again as given up', async () => {
    // The endpoint takes the batch, resets the connection unread and goes away for good.
    let reset = false;
    const server = createServer((socket) => {
      socket.pause();
      setTimeout(() => {
        socket.resetAndDestroy();
        server.close();
        reset = true;
      }, 200);
    });
    const sink = new TcpSink({ host: '127.0.0.1', port: await listening(server), connections: 1 });
    assert.equal((await sink.send(batchOf(0, 100))).kind, 'sent');
    await until(() => reset, 5000, 'the connection reset');
    await sleep(300); // the resend finds nothing listening
    await sink.close();
    assert.deepEqual(sink.resends(), { resent: 0, givenUp: 100 });
  });

  it('writes the same bytes at most 4 times when every connection is reset unread, then counts them given up', async () => {
    const server = createServer((socket) => {
      socket.pause();
      setTimeout(() => socket.resetAndDestroy(), 100);
    });
    const sink = new TcpSink({ host: '127.0.0.1', port: await listening(server), connections: 1 });
    try {
      assert.equal((await sink.send(batchOf(0, 100))).kind, 'sent');
      await until(
        () => sink.resends().givenUp === 100,
        10_000,
        () => `${sink.resends().givenUp} of 100 given up`,
      );
      assert.deepEqual(sink.resends(), { resent: 300, givenUp: 100 });
    } finally {
      await sink.close();
      server.close();
    }
  });

  it('reports an unreachable endpoint as retryable, naming it, and reconnects once it is back', async () => {
    const port = await freePort();
    const sink = new TcpSink({ host: '127.0.0.1', port, connections: 1, connectTimeoutMillis: 1000 });
    const down = await sink.send(batchOf(0, 1));
    assert.equal(down.kind, 'retryable');
    assert.equal(down.error.code, 'GB_FORWARDER_SINK_UNREACHABLE');
    assert.match(down.error.message, new RegExp(`gelf-tcp://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    assert.equal(sink.healthy(), false);

    const received: ReceivedMessage[] = [];
    const receiver = await startGelfReceiver({ tcp: { port }, onMessage: (m) => received.push(m) });
    try {
      assert.equal((await sink.send(batchOf(1, 1))).kind, 'sent');
      await until(
        () => received.length === 1,
        5000,
        () => `${received.length} of 1 arrived`,
      );
      assert.equal(sink.healthy(), true);
      await receiver.close(); // the endpoint goes away under an open connection
      let outcome = await sink.send(batchOf(2, 1));
      // The first write after a peer close can still land in the kernel buffer; the next one fails.
      if (outcome.kind === 'sent') outcome = await sink.send(batchOf(3, 1));
      assert.equal(outcome.kind, 'retryable');
    } finally {
      await sink.close();
    }
  });

  it('verifies the endpoint’s certificate: the right CA delivers, a wrong CA is refused as a TLS error', async () => {
    const server = certificates();
    const other = certificates();
    const received: ReceivedMessage[] = [];
    const receiver = await startGelfReceiver({
      tcp: { port: 0, tls: { cert: server.cert, key: server.key } },
      onMessage: (m) => received.push(m),
    });
    const port = receiver.ports.tcp ?? 0;
    const good = new TcpSink({ host: '127.0.0.1', port, tls: { ca: server.ca } });
    const bad = new TcpSink({ host: '127.0.0.1', port, tls: { ca: other.ca } });
    try {
      assert.equal((await good.send(batchOf(0, 10))).kind, 'sent');
      await until(
        () => received.length === 10,
        5000,
        () => `${received.length} of 10 arrived`,
      );
      const refused = await bad.send(batchOf(10, 1));
      assert.equal(refused.kind, 'retryable', 'a TLS problem holds the records, never drops them');
      assert.equal(refused.error.code, 'GB_FORWARDER_SINK_TLS');
      assert.equal(refused.error.retriable, false);
      assert.match(refused.error.message, /^TLS with gelf-tls:\/\/127\.0\.0\.1:\d+ failed: /);
    } finally {
      await good.close();
      await bad.close();
      await receiver.close();
    }
  });
});
