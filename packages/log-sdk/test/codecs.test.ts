import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as lz4 from 'lz4js';
import { lz4Frame } from '../src/codecs.js';

describe('lz4Frame', () => {
  it('round-trips through a standard LZ4 frame decoder at every block boundary', () => {
    const text = Buffer.from('{"level":30,"msg":"hello world","k8s":{"pod":"web-1"}}\n'.repeat(5000));
    for (const input of [
      Buffer.alloc(0),
      Buffer.from('x'),
      text.subarray(0, 65_536),
      text.subarray(0, 65_537),
      text,
      randomBytes(200_000), // incompressible: blocks stored raw
    ]) {
      const frame = lz4Frame(input);
      assert.deepEqual(Buffer.from(lz4.decompress(frame)), input, `size ${input.length}`);
    }
  });

  it('writes the frame header Kafka requires: independent blocks, 64 KiB, valid checksum', () => {
    const frame = lz4Frame(Buffer.from('abc'));
    assert.deepEqual([...frame.subarray(0, 6)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
    assert.ok(frame.length < 40);
    assert.deepEqual([...frame.subarray(-4)], [0, 0, 0, 0], 'end mark');
  });

  it('compresses repetitive log text well', () => {
    const text = Buffer.from('{"level":30,"msg":"request completed","status":200}\n'.repeat(2000));
    assert.ok(lz4Frame(text).length < text.length / 10);
  });
});
