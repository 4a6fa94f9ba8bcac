// The SDK's worker thread, started by createLogger: takes the lines the app's thread writes into
// the shared ring, and delivers them to Kafka. Talks to the logger over its parentPort.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { statsIntervalMillis, type ControlMessage, type WorkerData } from './control.js';
import { KafkaDelivery } from './delivery.js';
import { LineRingReader } from './line-ring.js';
import { recordCensor } from './redact.js';

/** A safety net under the ring's wake-ups: a missed one costs at most this delay. */
const maxSleepMillis = 1000;

/**
 * An empty ring is looked at again every millisecond this many times before the worker sleeps
 * until woken: an app logging steadily then never pays for a wake-up (a syscall) on its thread.
 */
const idlePollsBeforeSleep = 20;

const { config, ring } = workerData as WorkerData;
const port = parentPort;
if (port === null) throw new Error('graybridge log-sdk: worker.js runs as a worker thread only');

const delivery = new KafkaDelivery(config);
const reader = new LineRingReader(ring);
const censor = recordCensor(config.redactSecrets);
const take = (lines: Buffer | null): void => {
  if (lines !== null) delivery.acceptLines(censor(lines));
};

port.on('message', (message: ControlMessage) => {
  if (message.type !== 'flush') return;
  take(reader.readAll()); // every line written before the request
  void delivery.flush(message.timeoutMillis).then((stats) => {
    port.postMessage({ type: 'flushed', id: message.id, stats } satisfies ControlMessage);
  });
});

let lastStats = '';
const statsTimer = setInterval(() => {
  const stats = delivery.snapshot();
  // The worker's heap moves a little on every tick: an idle logger posts when it moved a MiB.
  const serialized = JSON.stringify({ ...stats, workerHeapUsedBytes: stats.workerHeapUsedBytes >> 20 });
  if (serialized === lastStats) return;
  lastStats = serialized;
  port.postMessage({ type: 'stats', stats } satisfies ControlMessage);
}, statsIntervalMillis);

// Read while there is something to read, yielding to the event loop between chunks (Kafka's I/O
// and timers run there); poll, then sleep until the app writes, when there is not. A pending
// Atomics.waitAsync does not keep a thread's event loop alive: the interval does.
const keepAlive = setInterval(() => undefined, 60_000);
let idlePolls = 0;
for (;;) {
  const lines = reader.read();
  if (lines !== null) {
    take(lines);
    idlePolls = 0;
    await yieldToLoop();
  } else if (reader.closeRequested) {
    break;
  } else if (idlePolls < idlePollsBeforeSleep) {
    idlePolls += 1;
    await sleep(1);
  } else {
    await reader.writerMoved(maxSleepMillis);
  }
}
take(reader.readAll());
clearInterval(statsTimer);
const stats = await delivery.close();
port.postMessage({ type: 'closed', stats } satisfies ControlMessage);
reader.markClosed();
clearInterval(keepAlive);
port.close();
