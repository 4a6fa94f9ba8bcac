import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import createSnappyCodec from 'kafkajs-snappy';
import * as lz4 from 'lz4js';
import { hash as xxh32 } from 'lz4js/xxh32.js';

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const lz4BlockBytes = 64 * 1024;

/**
 * An LZ4 frame with independent 64 KiB blocks, the layout Kafka's own producer writes: the broker
 * refuses dependent blocks ("Dependent block stream is unsupported"), which is all that lz4js's
 * frame writer makes. So the frame is assembled here from lz4js's block compressor.
 */
export function lz4Frame(source: Uint8Array): Buffer {
  // Magic, FLG = version 01 + block independence, BD = 64 KiB max block size, header checksum.
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0]);
  header[6] = (xxh32(0, header, 4, 2) >>> 8) & 0xff;
  const parts: Buffer[] = [header];
  const hashTable = new Uint32Array(1 << 16);
  const compressed = Buffer.allocUnsafe(lz4.compressBound(lz4BlockBytes));
  for (let offset = 0; offset < source.length; offset += lz4BlockBytes) {
    const block = source.subarray(offset, Math.min(offset + lz4BlockBytes, source.length));
    hashTable.fill(0); // no match may reach into an earlier block
    const size = lz4.compressBlock(block, compressed, 0, block.length, hashTable);
    const sizeWord = Buffer.allocUnsafe(4);
    if (size === 0 || size >= block.length) {
      sizeWord.writeUInt32LE((0x80000000 | block.length) >>> 0); // stored uncompressed
      parts.push(sizeWord, Buffer.from(block));
    } else {
      sizeWord.writeUInt32LE(size);
      parts.push(sizeWord, Buffer.from(compressed.subarray(0, size)));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

function createLz4Codec(): Codec {
  return {
    compress: (encoder) => Promise.resolve(lz4Frame(encoder.buffer)),
    decompress: (buffer) => Promise.resolve(Buffer.from(lz4.decompress(buffer))),
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
