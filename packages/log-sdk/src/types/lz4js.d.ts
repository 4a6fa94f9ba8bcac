declare module 'lz4js' {
  /** Decompresses an LZ4 frame (any block mode). */
  export function decompress(source: Uint8Array): Uint8Array | number[];
  /** Compresses one LZ4 block; returns its size in `destination` (0: not compressible). */
  export function compressBlock(
    source: Uint8Array,
    destination: Uint8Array,
    sourceIndex: number,
    sourceLength: number,
    hashTable: Uint32Array,
  ): number;
  export function compressBound(length: number): number;
}

declare module 'lz4js/xxh32.js' {
  /** xxHash32 of `source[index, index + length)`. */
  export function hash(seed: number, source: Uint8Array, index: number, length: number): number;
}
