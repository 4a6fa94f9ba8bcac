import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { freePort, untilCount } from '@graybridge/rig';
import { startGelfReceiver, type ReceivedMessage } from '../../src/receiver/server.js';
import { HttpSink } from '../../src/sink/http.js';

const batchOf = (from: number, count: number, padding = 200) =>
  Array.from({ length: count }, (_, i) => ({
    json: JSON.stringify({
      version: '1.1',
      host: 'h',
      short_message: `m${from + i}`,
      _seq: from + i,
      _pad: 'p'.repeat(padding),
    }),
  }));

describe('GELF HTTP sink against a real endpoint', () => {
  it('sends bulk bodies within the body limit, gzip or not, every message once', async () => {
    for (const gzip of [false, true]) {
      const received: ReceivedMessage[] = [];
      const receiver = await startGelfReceiver({ http: { port: 0, bulk: true }, onMessage: (m) => received.push(m) });
      try {
        const sink = new HttpSink({ url: `http://127.0.0.1:${receiver.ports.http ?? 0}/gelf`, bulk: true, gzip });
        assert.equal((await sink.send(batchOf(0, 1000))).kind, 'sent');
        await untilCount(received, 1000);
        assert.deepEqual(
          received.map((r) => r.message.fields.seq),
          Array.from({ length: 1000 }, (_, i) => i),
        );
        assert.equal(receiver.stats().httpTooLarge, 0);
      } finally {
        await receiver.close();
      }
    }
  });

  it('splits on 413 when the server’s limit is lower, and shrinks a single oversized message', async () => {
    const received: ReceivedMessage[] = [];
    const receiver = await startGelfReceiver({
      http: { port: 0, bulk: true, maxBodyBytes: 2000 },
      onMessage: (m) => received.push(m),
    });
    try {
      const url = `http://127.0.0.1:${receiver.ports.http ?? 0}/gelf`;
      assert.equal((await new HttpSink({ url, bulk: true }).send(batchOf(0, 40))).kind, 'sent');
      await untilCount(received, 40);
      assert.ok(receiver.stats().httpTooLarge > 0, 'the server did answer 413');

      const single = new HttpSink({ url, maxBodyBytes: 2000 });
      assert.equal((await single.send(batchOf(100, 1, 10_000))).kind, 'sent');
      await untilCount(received, 41);
      assert.match(String(received[40]?.message.fields.pad), /truncated \d+ chars by graybridge/);
    } finally {
      await receiver.close();
    }
  });

  it('one message per request without bulk; an unreachable endpoint is retryable and named', async () => {
    const received: ReceivedMessage[] = [];
    const receiver = await startGelfReceiver({ http: { port: 0 }, onMessage: (m) => received.push(m) });
    try {
      const sink = new HttpSink({ url: `http://127.0.0.1:${receiver.ports.http ?? 0}/gelf` });
      assert.equal((await sink.send(batchOf(0, 20))).kind, 'sent');
      await untilCount(received, 20);
    } finally {
      await receiver.close();
    }

    const port = await freePort();
    const down = await new HttpSink({ url: `http://127.0.0.1:${port}/gelf` }).send(batchOf(0, 1));
    assert.equal(down.kind, 'retryable');
    assert.match(down.error.message, new RegExp(`^http://127\\.0\\.0\\.1:${port}/gelf: .*ECONNREFUSED`));
  });

  it('treats a wrong path as an endpoint problem to pause on, not a reason to drop', async () => {
    const receiver = await startGelfReceiver({ http: { port: 0 }, onMessage: () => undefined });
    try {
      const outcome = await new HttpSink({ url: `http://127.0.0.1:${receiver.ports.http ?? 0}/wrong` }).send(
        batchOf(0, 1),
      );
      assert.equal(outcome.kind, 'retryable');
      assert.match(outcome.error.message, /answered 404$/);
    } finally {
      await receiver.close();
    }
  });

  it('finds the messages an endpoint refuses in a bulk body, returns them as rejected and delivers the rest', async () => {
    // An endpoint that answers 400 to any body holding a "poison" message (a proxy with a body filter, say).
    const accepted: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (body.includes('poison')) res.writeHead(400).end();
        else {
          accepted.push(...body.split('\n').filter(Boolean));
          res.writeHead(202).end();
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const batch = batchOf(0, 10).map((p, i) =>
        i === 3 || i === 7 ? { json: p.json.replace('"m', '"poison m') } : p,
      );
      for (const bulk of [true, false]) {
        accepted.length = 0;
        const sink = new HttpSink({
          url: `http://127.0.0.1:${(server.address() as { port: number }).port}/gelf`,
          bulk,
        });
        const outcome = await sink.send(batch);
        assert.equal(outcome.kind, 'sent');
        assert.deepEqual(
          outcome.rejected?.map((r) => [r.index, r.error.code]),
          [
            [3, 'GB_FORWARDER_SINK_REJECTED'],
            [7, 'GB_FORWARDER_SINK_REJECTED'],
          ],
        );
        assert.match(outcome.rejected[0]?.error.message ?? '', /answered 400$/);
        assert.equal(accepted.length, 8, `bulk=${bulk}: the other eight are delivered`);
      }
    } finally {
      server.close();
    }
  });
});
