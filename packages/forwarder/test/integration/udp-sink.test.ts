import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { untilCount } from '@graybridge/rig';
import { encodeGelf } from '../../src/encode/gelf.js';
import { startGelfReceiver, type GelfReceiver, type ReceivedMessage } from '../../src/receiver/server.js';
import { UdpSink } from '../../src/sink/udp.js';

function payload(message: string, fields: Record<string, unknown>): { json: string } {
  const encoded = encodeGelf(
    { message, host: 'h', timestampMillis: 1795403200000, level: 6, own: {}, fields },
    {
      maxMessageBytes: 8 * 1024 * 1024,
      maxFieldChars: 4 * 1024 * 1024,
      maxShortMessageChars: 250,
      maxFields: 500,
      maxDepth: 8,
    },
  );
  assert.ok(encoded.ok);
  return { json: encoded.json };
}

describe('GELF UDP sink against a real endpoint', () => {
  const received: ReceivedMessage[] = [];
  let receiver: GelfReceiver;
  before(async () => {
    receiver = await startGelfReceiver({ udp: { port: 0 }, onMessage: (m) => received.push(m) });
  });
  after(() => receiver.close());

  for (const compression of ['gzip', 'zlib', 'none'] as const) {
    it(`sends small messages whole and large ones in chunks (${compression})`, async () => {
      received.length = 0;
      const sink = new UdpSink({ host: '127.0.0.1', port: receiver.ports.udp ?? 0, compression });
      const noise = randomBytes(30_000).toString('base64'); // compresses poorly: many chunks
      const outcome = await sink.send([payload('small', { n: 1 }), payload('large', { noise })]);
      assert.equal(outcome.kind, 'sent');
      await untilCount(received, 2);
      assert.deepEqual(
        received.map((r) => r.message.message),
        ['small', 'large'],
      );
      assert.equal(received[1]?.message.fields.noise, noise);
      await sink.close();
    });
  }

  it('shrinks a message that would need more than 128 chunks instead of letting Graylog drop it', async () => {
    received.length = 0;
    const chunksBefore = receiver.stats().chunks.completed;
    const sink = new UdpSink({ host: '127.0.0.1', port: receiver.ports.udp ?? 0, chunkBytes: 1420 });
    const noise = randomBytes(400_000).toString('base64'); // ~530 KB incompressible: ~370 chunks
    assert.deepEqual(await sink.send([payload('huge', { noise })]), { kind: 'sent', shrunk: 1 });
    await untilCount(received, 1);
    const message = received[0]?.message;
    assert.ok(message);
    assert.match(String(message.fields.noise), /…\[truncated \d+ chars by graybridge\]$/);
    assert.equal(message.fields.gb_truncated, 'noise');
    assert.equal(receiver.stats().chunks.completed, chunksBefore + 1);
    await sink.close();
  });
});
