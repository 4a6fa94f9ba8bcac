declare module 'kafkajs-snappy' {
  interface Codec {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  }
  const createSnappyCodec: () => Codec;
  export default createSnappyCodec;
}
