import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordQueue } from '../src/queue.js';

const record = (text: string): Buffer => Buffer.from(text);

function queueWith(maxRecords: number, maxBytes: number, dropPolicy: 'drop-newest' | 'drop-oldest') {
  const drops: boolean[] = [];
  const queue = new RecordQueue({ maxRecords, maxBytes, dropPolicy }, (count, queued) => {
    for (let i = 0; i < count; i += 1) drops.push(queued);
  });
  return { queue, drops };
}

describe('RecordQueue', () => {
  it('drop-newest refuses records beyond the record limit and keeps the oldest in order', () => {
    const { queue, drops } = queueWith(3, 1024, 'drop-newest');
    const accepted = ['a', 'b', 'c', 'd', 'e'].map((r) => queue.push(record(r)));
    assert.deepEqual(accepted, [true, true, true, false, false]);
    assert.deepEqual(drops, [false, false]);
    assert.deepEqual(queue.take(10, 1024).map(String), ['a', 'b', 'c']);
  });

  it('drop-oldest evicts queued records to make room, counting them as accepted-then-dropped', () => {
    const { queue, drops } = queueWith(3, 1024, 'drop-oldest');
    for (const r of ['a', 'b', 'c', 'd', 'e']) assert.equal(queue.push(record(r)), true);
    assert.deepEqual(drops, [true, true]);
    assert.deepEqual(queue.take(10, 1024).map(String), ['c', 'd', 'e']);
  });

  it('enforces the byte limit on queued plus in-flight records', () => {
    const { queue } = queueWith(100, 10, 'drop-newest');
    assert.equal(queue.push(record('12345')), true);
    assert.equal(queue.push(record('12345')), true);
    const batch = queue.take(1, 100);
    assert.equal(queue.totalBytes, 10);
    assert.equal(queue.push(record('1')), false, 'in-flight bytes still count');
    queue.settle(batch);
    assert.equal(queue.push(record('1')), true);
    assert.equal(queue.totalBytes, 6);
  });

  it('drop-oldest never evicts in-flight records: with nothing waiting it refuses the newcomer', () => {
    const { queue, drops } = queueWith(2, 1024, 'drop-oldest');
    queue.push(record('a'));
    queue.push(record('b'));
    const batch = queue.take(2, 1024);
    assert.equal(queue.push(record('c')), false);
    assert.deepEqual(drops, [false]);
    queue.settle(batch);
    assert.equal(queue.totalRecords, 0);
  });

  it('take respects maxRecords and maxBytes but always takes at least one record', () => {
    const { queue } = queueWith(100, 1024, 'drop-newest');
    for (const r of ['aaaa', 'bbbb', 'cccc', 'dddd']) queue.push(record(r));
    assert.deepEqual(queue.take(3, 8).map(String), ['aaaa', 'bbbb']);
    assert.deepEqual(queue.take(1, 1024).map(String), ['cccc']);
    assert.deepEqual(queue.take(10, 1).map(String), ['dddd'], 'a record larger than maxBytes still goes alone');
    assert.equal(queue.waiting, 0);
  });

  it('counts each record’s overhead in the batch (key, header, framing) against maxBytes, not in the queue', () => {
    const { queue } = queueWith(100, 1024, 'drop-newest');
    for (const r of ['aaaa', 'bbbb', 'cccc']) queue.push(record(r));
    assert.deepEqual(queue.take(10, 20, 6).map(String), ['aaaa', 'bbbb'], '2 × (4 + 6) fits 20, a third does not');
    assert.equal(queue.totalBytes, 12, 'the queue accounts value bytes only');
  });

  it('stays consistent across many pushes and takes (compaction)', () => {
    const { queue } = queueWith(100_000, 10_000_000, 'drop-newest');
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round += 1) {
      for (let i = 0; i < 500; i += 1) queue.push(record(String(next++)));
      const batch = queue.take(400, 10_000_000);
      for (const r of batch) assert.equal(String(r), String(expected++));
      queue.settle(batch);
    }
    assert.equal(queue.totalRecords, next - expected);
    assert.equal(queue.waitingBytes, queue.totalBytes);
  });

  it('discardWaiting empties the queue and says how many went', () => {
    const { queue } = queueWith(10, 1024, 'drop-newest');
    queue.push(record('a'));
    queue.push(record('b'));
    assert.equal(queue.discardWaiting(), 2);
    assert.equal(queue.totalRecords, 0);
    assert.equal(queue.totalBytes, 0);
  });

  it('holds lines as strings on the app side: peek and shift hand them on oldest first, drop-oldest keeps the newest', () => {
    const drops: boolean[] = [];
    const queue = new RecordQueue<string>(
      { maxRecords: 100, maxBytes: 10, dropPolicy: 'drop-oldest' },
      (count, queued) => {
        for (let i = 0; i < count; i += 1) drops.push(queued);
      },
    );
    for (const line of ['aaaa', 'bbbb', 'cccc']) assert.equal(queue.push(line), true);
    assert.deepEqual(drops, [true], 'the oldest made room: 12 code units > 10');
    assert.equal(queue.waitingBytes, 8);
    assert.equal(queue.peek(), 'bbbb');
    queue.shift();
    assert.equal(queue.peek(), 'cccc');
    assert.equal(queue.waitingBytes, 4);
    assert.equal(queue.totalRecords, 1, 'shifted lines are handed on, not in flight');
    queue.shift();
    assert.equal(queue.peek(), undefined);
    queue.shift();
    assert.equal(queue.totalBytes, 0);
  });
});
