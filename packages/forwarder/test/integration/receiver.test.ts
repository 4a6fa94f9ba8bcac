import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { untilCount } from '@graybridge/rig';
import { startGelfReceiver, type GelfReceiver, type ReceivedMessage } from '../../src/receiver/server.js';

interface GelfPro {
  /** gelf-pro keeps one adapter for the process; cleared here to switch transports. */
  adapter?: unknown;
  setConfig(config: object): void;
  info(message: string, extra: object, callback: (error: Error | null) => void): void;
}
const gelfPro = createRequire(import.meta.url)('gelf-pro') as GelfPro;

function sendWithGelfPro(adapterName: 'tcp' | 'udp', port: number, message: string, extra: object): Promise<void> {
  gelfPro.adapter = undefined;
  gelfPro.setConfig({ adapterName, adapterOptions: { host: '127.0.0.1', port }, fields: { facility: 'test' } });
  return new Promise((resolve, reject) => gelfPro.info(message, extra, (error) => (error ? reject(error) : resolve())));
}

describe('GELF receiver on TCP, UDP and HTTP', () => {
  const received: ReceivedMessage[] = [];
  const rejections: string[] = [];
  let receiver: GelfReceiver;

  before(async () => {
    receiver = await startGelfReceiver({
      tcp: { port: 0, maxFrameBytes: 64 * 1024 },
      udp: { port: 0 },
      http: { port: 0, bulk: true },
      onMessage: (message) => received.push(message),
      onReject: (transport, reason) => rejections.push(`${transport}: ${reason}`),
    });
  });
  after(() => receiver.close());

  it('accepts what a third-party client (gelf-pro) sends over TCP and over chunked, compressed UDP', async () => {
    received.length = 0;
    await sendWithGelfPro('tcp', receiver.ports.tcp ?? 0, 'over tcp', { order: 1, ok: 'yes' });
    const big = 'x'.repeat(5000); // several UDP chunks
    await sendWithGelfPro('udp', receiver.ports.udp ?? 0, 'over udp', { body: big });
    await untilCount(received, 2);
    const tcp = received.find((r) => r.transport === 'tcp')?.message;
    const udp = received.find((r) => r.transport === 'udp')?.message;
    assert.ok(tcp && udp);
    assert.equal(tcp.message, 'over tcp');
    assert.equal(tcp.fields.order, 1);
    assert.equal(udp.message, 'over udp');
    assert.equal(udp.fields.body, big);
    assert.ok(receiver.stats().chunks.completed >= 1, 'the UDP message came in chunks');
  });

  it('frames TCP by \\0, delivers a last unterminated frame on close, closes on an oversized frame', async () => {
    received.length = 0;
    const socket = connect(receiver.ports.tcp ?? 0, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      '{"short_message":"one","host":"h"}\0{"short_message":"two","host":"h"}\0{"short_message":"three","host":"h"}',
    );
    socket.end();
    await untilCount(received, 3);
    assert.deepEqual(
      received.map((r) => r.message.message),
      ['one', 'two', 'three'],
    );

    const big = connect(receiver.ports.tcp ?? 0, '127.0.0.1');
    await new Promise((resolve) => big.once('connect', resolve));
    const closed = new Promise((resolve) => big.once('close', resolve));
    big.on('error', () => undefined);
    big.write('{"short_message":"' + 'y'.repeat(70 * 1024));
    await closed;
    assert.equal(receiver.stats().tcpConnectionsClosedForSize, 1);
  });

  it('answers HTTP as Graylog does: 202 (even for bad GELF), 404, 405, 413; gzip and bulk bodies', async () => {
    received.length = 0;
    rejections.length = 0;
    const url = `http://127.0.0.1:${receiver.ports.http ?? 0}`;
    const post = (body: string | Buffer, headers: Record<string, string> = {}, path = '/gelf'): Promise<number> =>
      fetch(url + path, { method: 'POST', body, headers }).then((r) => r.status);
    assert.equal(await post('{"short_message":"plain","host":"h"}\n{"short_message":"bulk second","host":"h"}\n'), 202);
    assert.equal(await post(gzipSync('{"short_message":"gzipped","host":"h"}\n'), { 'content-encoding': 'gzip' }), 202);
    assert.equal(await post('{"host":"h"}'), 202, 'invalid GELF still gets 202');
    assert.equal(await post('{}', {}, '/gelf/'), 404);
    assert.equal((await fetch(url + '/gelf')).status, 405);
    assert.equal(await post('{"short_message":"' + 'z'.repeat(70_000) + '"}'), 413);
    await untilCount(received, 3);
    assert.deepEqual(
      received.map((r) => r.message.message),
      ['plain', 'bulk second', 'gzipped'],
    );
    assert.deepEqual(rejections, ['http: missing mandatory short_message or message']);
  });
});
