import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import * as lz4js from 'lz4js';
import { lz4Encoder } from '../src/codecs.js';
import { lz4CompressBlock, lz4CompressBound, lz4Frame } from '../src/lz4.js';

/**
 * A strict LZ4 block decoder enforcing the spec's end-of-block rules, as Kafka's decoder
 * (lz4-java) does: the last 5 bytes are literals, the last match starts ≥ 12 bytes before the end,
 * offsets are in range and non-zero. Without `originalLength`, the block's own length counts
 * (a frame's blocks decode to at most 4 MiB).
 */
function strictDecode(block: Uint8Array, originalLength?: number): Buffer {
  const out = Buffer.alloc(originalLength ?? 4 * 1024 * 1024);
  const matches: { start: number; end: number }[] = [];
  let ip = 0;
  let op = 0;
  const readLength = (base: number): number => {
    let length = base;
    if (base === 15) {
      let byte: number;
      do {
        byte = block[ip++] as number;
        length += byte;
      } while (byte === 255);
    }
    return length;
  };
  for (;;) {
    const token = block[ip++] as number;
    const literals = readLength(token >>> 4);
    out.set(block.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip === block.length) break; // the last sequence: literals only
    const offset = (block[ip] as number) | ((block[ip + 1] as number) << 8);
    ip += 2;
    assert.ok(offset > 0 && offset <= op, `offset ${offset} at output ${op}`);
    const matchLength = readLength(token & 15) + 4;
    matches.push({ start: op, end: op + matchLength });
    for (let i = 0; i < matchLength; i += 1, op += 1) out[op] = out[op - offset] as number;
  }
  if (originalLength !== undefined) assert.equal(op, originalLength);
  for (const { start, end } of matches) {
    assert.ok(start <= op - 12, `a match starts at ${start}, within the last 12 bytes of ${op}`);
    assert.ok(end <= op - 5, `a match ends at ${end}, within the last 5 bytes of ${op}`);
  }
  return out.subarray(0, op);
}

const logText = Buffer.from(
  Array.from(
    { length: 3000 },
    (_, i) => `{"level":30,"order":${i},"user":"u-${i % 977}","path":"/api/orders/${i}","msg":"request completed"}\n`,
  ).join(''),
);

describe('lz4CompressBlock', () => {
  it('produces blocks that a strict decoder accepts, for every size around the spec limits', () => {
    const table = new Int32Array(1 << 16);
    const inputs = [
      ...Array.from({ length: 40 }, (_, n) => logText.subarray(0, n)),
      Buffer.alloc(100, 'a'),
      Buffer.alloc(65_536, 'a'),
      logText.subarray(0, 65_536),
      randomBytes(10_000),
      Buffer.concat([randomBytes(1000), Buffer.alloc(5000, 'x'), randomBytes(1000)]),
    ];
    for (const input of inputs) {
      const destination = Buffer.alloc(lz4CompressBound(input.length));
      const size = lz4CompressBlock(input, destination, table);
      assert.deepEqual(
        strictDecode(destination.subarray(0, size), input.length),
        Buffer.from(input),
        `length ${input.length}`,
      );
    }
  });

  it('compresses log text well and survives random data', () => {
    const table = new Int32Array(1 << 16);
    const block = logText.subarray(0, 65_536);
    const destination = Buffer.alloc(lz4CompressBound(block.length));
    assert.ok(lz4CompressBlock(block, destination, table) < block.length / 3);
    const noise = randomBytes(65_536);
    const out = Buffer.alloc(lz4CompressBound(noise.length));
    assert.ok(lz4CompressBlock(noise, out, table) <= lz4CompressBound(noise.length));
  });
});

describe('lz4Frame', () => {
  it('round-trips through a standard LZ4 frame decoder at every block boundary', () => {
    for (const input of [
      Buffer.alloc(0),
      Buffer.from('x'),
      logText.subarray(0, 65_536),
      logText.subarray(0, 65_537),
      logText,
      randomBytes(200_000), // incompressible: blocks stored raw
    ]) {
      assert.deepEqual(Buffer.from(lz4js.decompress(lz4Frame(input))), input, `size ${input.length}`);
    }
  });

  it('writes the frame header Kafka requires: independent blocks, 64 KiB, valid checksum', () => {
    const frame = lz4Frame(Buffer.from('abc'));
    assert.deepEqual([...frame.subarray(0, 7)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
    assert.deepEqual([...frame.subarray(-4)], [0, 0, 0, 0], 'end mark');
  });
});

/** The blocks of an LZ4 frame without content size or checksums: [compressed?, bytes] each. */
function frameBlocks(frame: Buffer): { compressed: boolean; data: Buffer }[] {
  assert.equal(frame.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic');
  const blocks: { compressed: boolean; data: Buffer }[] = [];
  for (let at = 7; ;) {
    const word = frame.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    blocks.push({ compressed: (word & 0x80000000) === 0, data: frame.subarray(at, at + size) });
    at += size;
  }
  return blocks;
}

describe('lz4-napi, the native encoder the SDK prefers', () => {
  const prebuilt = process.platform === 'linux' && process.arch === 'x64';

  it('is the encoder on linux x64 (its prebuilt binary loads from the optional dependency)', (t) => {
    if (!prebuilt) {
      t.skip(`no assertion for ${process.platform}-${process.arch}`);
      return;
    }
    assert.equal(lz4Encoder(), 'lz4-napi');
  });

  it('gives way to the TypeScript encoder where its binary does not load', () => {
    const codecs = new URL('../src/codecs.js', import.meta.url).href;
    const run = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const { lz4Encoder } = await import('${codecs}'); console.log(lz4Encoder());`],
      // lz4-napi loads its binary from this path when set: one that is not there fails the load.
      { env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/lz4.node' }, encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'lz4-typescript');
  });

  it('writes frames Kafka reads: independent blocks, no checksums, blocks a strict decoder accepts', async (t) => {
    if (!prebuilt) {
      t.skip(`no prebuilt binary assumed on ${process.platform}-${process.arch}`);
      return;
    }
    const { compressFrame } = createRequire(import.meta.url)('lz4-napi') as {
      compressFrame: (data: Buffer, options: object) => Promise<Buffer>;
    };
    for (const input of [Buffer.from('x'), logText, Buffer.concat([logText, randomBytes(70_000), logText])]) {
      const frame = await compressFrame(input, { contentChecksum: false, blockChecksums: false });
      assert.equal(frame[4], 0x60, 'FLG: version 01, independent blocks, no checksums, no content size');
      assert.ok([0x40, 0x50, 0x60, 0x70].includes(frame[5] as number), 'BD: a block size Kafka accepts (64 KiB–4 MiB)');
      const decoded = frameBlocks(frame).map(({ compressed, data }) => (compressed ? strictDecode(data) : data));
      assert.deepEqual(Buffer.concat(decoded), input);
    }
  });
});
