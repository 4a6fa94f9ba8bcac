declare module 'lz4js' {
  /** Decompresses an LZ4 frame (any block mode). */
  export function decompress(source: Uint8Array): Uint8Array | number[];
}
