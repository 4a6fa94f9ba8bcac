import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkAggregator, isChunk } from '../../src/receiver/chunks.js';

function chunk(id: number, sequence: number, count: number, data: string): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x1e;
  header[1] = 0x0f;
  header.writeBigUInt64BE(BigInt(id), 2);
  header[10] = sequence;
  header[11] = count;
  return Buffer.concat([header, Buffer.from(data)]);
}

describe('ChunkAggregator (Graylog’s rules)', () => {
  it('reassembles out of order; a duplicate sequence keeps the first', () => {
    const aggregator = new ChunkAggregator();
    assert.equal(aggregator.add(chunk(1, 2, 3, 'c')), undefined);
    assert.equal(aggregator.add(chunk(1, 0, 3, 'a')), undefined);
    assert.equal(aggregator.add(chunk(1, 0, 3, 'X')), undefined);
    assert.equal(aggregator.add(chunk(1, 1, 3, 'b'))?.toString(), 'abc');
    assert.deepEqual(aggregator.stats(), { completed: 1, expired: 0, invalid: 0 });
  });

  it('drops invalid chunks: count 0, more than 128, sequence ≥ count', () => {
    const aggregator = new ChunkAggregator();
    for (const bad of [chunk(2, 0, 0, 'x'), chunk(2, 0, 129, 'x'), chunk(2, 3, 3, 'x')])
      assert.equal(aggregator.add(bad), undefined);
    assert.equal(aggregator.stats().invalid, 3);
  });

  it('drops a message still incomplete 5 s after its first chunk', () => {
    let now = 0;
    const aggregator = new ChunkAggregator(5000, () => now);
    aggregator.add(chunk(3, 0, 2, 'a'));
    now = 5000;
    assert.equal(aggregator.add(chunk(3, 1, 2, 'b')), undefined, 'the late chunk starts a new, incomplete message');
    assert.equal(aggregator.stats().expired, 1);
  });

  it('tells chunks from whole payloads by the magic bytes', () => {
    assert.equal(isChunk(chunk(4, 0, 1, 'x')), true);
    assert.equal(isChunk(Buffer.from('{"short_message":"x"}')), false);
  });
});
