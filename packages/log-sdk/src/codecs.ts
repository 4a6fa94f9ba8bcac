import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import createSnappyCodec from 'kafkajs-snappy';
import * as lz4js from 'lz4js';
import { lz4Frame } from './lz4.js';

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

type FrameCompressor = (
  data: Buffer,
  options: { contentChecksum: boolean; blockChecksums: boolean },
) => Promise<Buffer>;

/**
 * lz4-napi (an optional dependency: Rust's lz4_flex with prebuilt binaries for the common
 * platforms) compresses a batch ~4.5× faster than the TypeScript encoder, on libuv's threads
 * instead of the worker's; where its binary does not load, the TypeScript encoder does the work.
 */
function loadNativeLz4(): FrameCompressor | null {
  try {
    const native = createRequire(import.meta.url)('lz4-napi') as { compressFrame: FrameCompressor };
    return typeof native.compressFrame === 'function' ? native.compressFrame : null;
  } catch {
    return null;
  }
}

/** lz4-napi's compressor once tried (on the first compression, not for decompressing): null where it does not load or failed. */
let nativeLz4: FrameCompressor | null | undefined;

function nativeLz4Compressor(): FrameCompressor | null {
  if (nativeLz4 === undefined) nativeLz4 = loadNativeLz4();
  return nativeLz4;
}

/** Which LZ4 encoder this process uses: lz4-napi's, or the TypeScript one where it does not load. */
export function lz4Encoder(): 'lz4-napi' | 'lz4-typescript' {
  return nativeLz4Compressor() === null ? 'lz4-typescript' : 'lz4-napi';
}

/** Kafka's frame: independent blocks, no checksums (the RecordBatch has its own CRC). */
async function compressLz4(data: Buffer): Promise<Buffer> {
  const native = nativeLz4Compressor();
  if (native !== null) {
    try {
      return await native(data, { contentChecksum: false, blockChecksums: false });
    } catch {
      nativeLz4 = null; // a binary that loads but fails: the TypeScript encoder from now on
    }
  }
  return lz4Frame(data);
}

function createLz4Codec(): Codec {
  return {
    compress: (encoder) => compressLz4(encoder.buffer),
    decompress: (buffer) => Promise.resolve(Buffer.from(lz4js.decompress(buffer))),
  };
}

function createZstdCodec(): Codec {
  // Narrowed at registration: only called where zlib has zstd.
  const z = zlib as unknown as {
    zstdCompress: (b: Buffer, cb: (e: Error | null, r: Buffer) => void) => void;
    zstdDecompress: (b: Buffer, cb: (e: Error | null, r: Buffer) => void) => void;
  };
  const compress = promisify(z.zstdCompress);
  const decompress = promisify(z.zstdDecompress);
  return { compress: (encoder) => compress(encoder.buffer), decompress: (buffer) => decompress(buffer) };
}

/**
 * Registers snappy, lz4 and (where this Node's zlib has it) zstd with kafkajs, which ships only
 * gzip (its other slots hold functions that throw "not implemented"). Idempotent. Producers need it to compress; consumers (the forwarder) to read batches
 * compressed by any producer.
 */
export function registerKafkaCodecs(): void {
  // kafkajs is CommonJS with a computed export object: named ESM imports of these fail.
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  const codecs = CompressionCodecs as Record<number, () => Codec>;
  codecs[CompressionTypes.Snappy] = createSnappyCodec;
  codecs[CompressionTypes.LZ4] = createLz4Codec;
  if ('zstdCompress' in zlib) codecs[CompressionTypes.ZSTD] = createZstdCodec;
}
