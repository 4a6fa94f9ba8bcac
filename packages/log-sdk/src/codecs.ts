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

function createLz4Codec(): Codec {
  return {
    compress: (encoder) => Promise.resolve(lz4Frame(encoder.buffer)),
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
