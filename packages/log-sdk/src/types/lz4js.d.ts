declare module 'lz4js' {
  /** Compresses to an LZ4 frame (the format Kafka's lz4 codec uses). */
  export function compress(source: Uint8Array): Uint8Array | number[];
  export function decompress(source: Uint8Array): Uint8Array | number[];
}
