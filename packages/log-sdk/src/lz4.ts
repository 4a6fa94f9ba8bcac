// LZ4 block compression and Kafka's LZ4 frame layout, in plain TypeScript: the encoder wherever
// the optional native one (lz4-napi, codecs.ts) does not load, so apps never need a native build.
// lz4js's compressor is not used because it breaks the spec's end-of-block rules (a match may
// start within the last 12 bytes), which Kafka's decoder rejects.

const minMatch = 4;
/** The last 5 bytes of a block are always literals. */
const lastLiterals = 5;
/** The last match must start at least 12 bytes before the end of the block. */
const mfLimit = 12;
const maxOffset = 65_535;
const hashLog = 16;
const blockBytes = 64 * 1024;

function read32(source: Uint8Array, index: number): number {
  return (
    ((source[index] as number) |
      ((source[index + 1] as number) << 8) |
      ((source[index + 2] as number) << 16) |
      ((source[index + 3] as number) << 24)) >>>
    0
  );
}

function hash(sequence: number): number {
  return Math.imul(sequence, 2654435761) >>> (32 - hashLog);
}

/** Writes a length's continuation bytes (the part beyond the token's 15). */
function writeLength(destination: Uint8Array, at: number, length: number): number {
  let remaining = length - 15;
  let position = at;
  for (; remaining >= 255; remaining -= 255) destination[position++] = 255;
  destination[position++] = remaining;
  return position;
}

/** Worst-case size of one compressed block of `length` bytes. */
export function lz4CompressBound(length: number): number {
  return length + Math.floor(length / 255) + 16;
}

/**
 * Compresses `source` into one LZ4 block (greedy, hash of 4-byte sequences, accelerating skips
 * over incompressible data). Returns the number of bytes written to `destination`.
 */
export function lz4CompressBlock(source: Uint8Array, destination: Uint8Array, table: Int32Array): number {
  const length = source.length;
  let output = 0;
  let anchor = 0;
  const emit = (literalEnd: number, offset: number, matchLength: number): void => {
    const literals = literalEnd - anchor;
    const tokenAt = output++;
    const literalNibble = literals < 15 ? literals : 15;
    if (literals >= 15) output = writeLength(destination, output, literals);
    destination.set(source.subarray(anchor, literalEnd), output);
    output += literals;
    if (matchLength === 0) {
      destination[tokenAt] = literalNibble << 4;
      return;
    }
    destination[output++] = offset & 0xff;
    destination[output++] = offset >>> 8;
    const matchCode = matchLength - minMatch;
    destination[tokenAt] = (literalNibble << 4) | (matchCode < 15 ? matchCode : 15);
    if (matchCode >= 15) output = writeLength(destination, output, matchCode);
  };

  if (length > mfLimit) {
    table.fill(-1);
    const matchStartLimit = length - mfLimit; // a match starts before this
    const matchEndLimit = length - lastLiterals; // and ends at or before this
    let position = 0;
    let misses = 0;
    while (position < matchStartLimit) {
      const sequence = read32(source, position);
      const slot = hash(sequence);
      const candidate = table[slot] as number;
      table[slot] = position;
      if (candidate >= 0 && position - candidate <= maxOffset && read32(source, candidate) === sequence) {
        let matchLength = minMatch;
        while (
          position + matchLength < matchEndLimit &&
          source[position + matchLength] === source[candidate + matchLength]
        ) {
          matchLength += 1;
        }
        emit(position, position - candidate, matchLength);
        position += matchLength;
        anchor = position;
        misses = 0;
      } else {
        misses += 1;
        position += 1 + (misses >>> 6);
      }
    }
  }
  emit(length, 0, 0);
  return output;
}

/**
 * An LZ4 frame with independent 64 KiB blocks and no checksums: the layout Kafka's own producer
 * writes (the broker refuses dependent blocks).
 */
export function lz4Frame(source: Uint8Array): Buffer {
  // Magic, FLG = version 01 + block independence, BD = 64 KiB max block size, header checksum.
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
  const blocks = Math.ceil(source.length / blockBytes);
  const output = Buffer.allocUnsafe(header.length + blocks * (4 + lz4CompressBound(blockBytes)) + 4);
  header.copy(output);
  let at = header.length;
  const table = new Int32Array(1 << hashLog);
  for (let offset = 0; offset < source.length; offset += blockBytes) {
    const block = source.subarray(offset, Math.min(offset + blockBytes, source.length));
    const size = lz4CompressBlock(block, output.subarray(at + 4), table);
    if (size < block.length) {
      output.writeUInt32LE(size, at);
      at += 4 + size;
    } else {
      output.writeUInt32LE((0x80000000 | block.length) >>> 0, at); // stored uncompressed
      output.set(block, at + 4);
      at += 4 + block.length;
    }
  }
  output.writeUInt32LE(0, at); // end mark
  return output.subarray(0, at + 4);
}
