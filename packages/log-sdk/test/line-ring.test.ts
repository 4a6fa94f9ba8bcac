import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createLineRing, LineRingReader, LineRingWriter } from '../src/line-ring.js';

/** Deterministic lines of 1–`maxChars` characters, some with multi-byte UTF-8, each ending in a newline. */
function lines(count: number, maxChars: number): string[] {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const alphabet = ['a', 'b', 'ü', '日', '🚀', '"', '\\'];
  return Array.from({ length: count }, (_, index) => {
    const length = 1 + (next() % maxChars);
    let text = `${index}:`;
    while (text.length < length) text += alphabet[next() % alphabet.length] ?? '';
    return text + '\n';
  });
}

describe('the line ring between the app thread and the worker', () => {
  it('hands over every line whole and in order through many wraps, multi-byte text included', () => {
    const memory = createLineRing(97); // small and odd: lines land at every offset and wrap often
    const writer = new LineRingWriter(memory);
    const reader = new LineRingReader(memory);
    const sent = lines(5000, 15); // ≤ 47 bytes: at most half the ring
    let received = '';
    let refused = 0;
    for (const line of sent) {
      while (!writer.tryWrite(line)) {
        refused += 1;
        const chunk = reader.read();
        assert.ok(chunk, 'a full ring has something to read');
        assert.equal(chunk.at(-1), 0x0a, 'a chunk ends at the end of a line');
        received += chunk.toString();
      }
    }
    received += reader.readAll()?.toString() ?? '';
    assert.ok(refused > 1000, `the ring filled up often (${refused} times)`);
    assert.equal(received, sent.join(''));
    assert.equal(reader.read(), null, 'nothing left');
  });

  it('takes a line of up to half the ring once the reader caught up, wherever the ring stands', () => {
    const memory = createLineRing(65);
    const writer = new LineRingWriter(memory);
    const reader = new LineRingReader(memory);
    const positions = new Set<number>();
    for (let step = 0; step < 300; step += 1) {
      const filler = 1 + ((step * 7) % 32); // moves the ring to every position in turn
      assert.equal(writer.tryWrite('f'.repeat(filler - 1) + '\n'), true);
      assert.equal(reader.readAll()?.length, filler);
      positions.add(new Int32Array(memory.state)[0] as number);
      const half = `${step}`.padEnd(31, 'h') + '\n';
      assert.equal(writer.tryWrite(half), true, `at position ${[...positions].at(-1)}`);
      assert.equal(reader.readAll()?.toString(), half);
    }
    assert.ok(positions.size >= 30, `positions all over the ring (${positions.size})`);
  });

  // The close request must wake a reader that checked for it a moment before falling asleep. Before
  // the reader slept on its own flag, about 1 close in 2,000 landed in that gap on a 2-core machine
  // and the worker slept its whole wait: here, the close could not be seen within 10 s.
  it('wakes a reader for a close request that lands as it falls asleep: 20,000 closes at moments all around it', async () => {
    const rings = Array.from({ length: 20_000 }, () => createLineRing(64));
    const worker = new Worker(
      `
      const { workerData } = require('node:worker_threads');
      import(workerData.module).then(async ({ LineRingReader }) => {
        const keepAlive = setInterval(() => {}, 60_000);
        for (const memory of workerData.rings) {
          const reader = new LineRingReader(memory);
          for (;;) {
            if (reader.read() !== null) continue;
            if (reader.closeRequested) break;
            await reader.writerMoved(60_000);
          }
          reader.markClosed();
        }
        clearInterval(keepAlive);
      });
      `,
      { eval: true, workerData: { rings, module: new URL('../src/line-ring.js', import.meta.url).href } },
    );
    let seed = 7;
    const spinFor = (nanos: number) => {
      const until = process.hrtime.bigint() + BigInt(nanos);
      while (process.hrtime.bigint() < until);
    };
    try {
      for (const [index, memory] of rings.entries()) {
        const writer = new LineRingWriter(memory);
        assert.equal(writer.tryWrite('x\n'), true);
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        spinFor(seed % 60_000); // 0–60 µs: the reader reads the line and heads for its sleep meanwhile
        writer.requestClose();
        writer.closedSync(10_000);
        assert.equal(writer.closed, true, `ring ${index}: the worker slept through the close request`);
      }
    } finally {
      await worker.terminate();
    }
  });

  // Each side sleeps up to a minute per wait: one missed wake-up would run past the timeout.
  it(
    'wakes a sleeping reader in another thread for every write: 200,000 lines, none missed, none slept through',
    { timeout: 30_000 },
    async () => {
      const memory = createLineRing(4096);
      const writer = new LineRingWriter(memory);
      const worker = new Worker(
        `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.module).then(async ({ LineRingReader }) => {
        const reader = new LineRingReader(workerData.memory);
        const keepAlive = setInterval(() => {}, 60_000); // a pending Atomics.waitAsync does not hold the loop
        let bytes = 0, lines = 0, hash = 0;
        for (;;) {
          const chunk = reader.read();
          if (chunk !== null) {
            bytes += chunk.length;
            for (const byte of chunk) { hash = (hash * 31 + byte) >>> 0; if (byte === 10) lines += 1; }
          } else if (reader.closeRequested) break;
          else await reader.writerMoved(60_000);
        }
        const rest = reader.readAll();
        if (rest !== null) for (const byte of rest) { bytes += 1; hash = (hash * 31 + byte) >>> 0; if (byte === 10) lines += 1; }
        parentPort.postMessage({ bytes, lines, hash });
        reader.markClosed();
        clearInterval(keepAlive);
      });
      `,
        { eval: true, workerData: { memory, module: new URL('../src/line-ring.js', import.meta.url).href } },
      );
      const result = new Promise<{ bytes: number; lines: number; hash: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const sent = lines(200_000, 60);
      let expectedHash = 0;
      for (const [index, line] of sent.entries()) {
        for (const byte of Buffer.from(line)) expectedHash = (expectedHash * 31 + byte) >>> 0;
        while (!writer.tryWrite(line)) await writer.readerMoved(60_000);
        // Now and then let the reader drain and fall asleep, so writes find it sleeping.
        if (index % 1000 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      writer.requestClose();
      assert.deepEqual(await result, {
        bytes: Buffer.byteLength(sent.join('')),
        lines: sent.length,
        hash: expectedHash,
      });
      assert.equal(writer.closed, true);
      await worker.terminate();
    },
  );
});
