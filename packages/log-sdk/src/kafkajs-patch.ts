// Imported before kafkajs wherever the SDK produces: it must run before kafkajs loads.
import { createRequire, Module } from 'node:module';

interface GroupArguments {
  readonly topic: string;
  readonly partitionMetadata: readonly unknown[];
  readonly messages: readonly unknown[];
  readonly partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: unknown }) => number;
}

/** Linear twin of kafkajs's groupMessagesPerPartition: same result, same partitioner calls. */
function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: GroupArguments): Record<number, unknown[]> {
  const groups: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return groups;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (groups[partition] ??= []).push(message);
  }
  return groups;
}

/**
 * kafkajs 2.2.4 (pinned exactly) groups each batch's messages per partition with
 * `[...current, message]` inside a reduce: quadratic in the batch size, and the largest cost of
 * producing a 500-record batch (see docs/benchmarks.md). This puts a linear module with the same
 * contract in the require cache under that internal path before kafkajs requires it.
 */
function installLinearGrouping(): void {
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
  } catch {
    return; // a different kafkajs layout: leave it alone
  }
  if (file in require.cache) return; // kafkajs already loaded in this thread: too late, harmless
  const module = new Module(file);
  module.filename = file;
  module.loaded = true;
  module.exports = groupMessagesPerPartition;
  require.cache[file] = module;
}

installLinearGrouping();

interface PendingCheckQueue {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  readonly pending: readonly unknown[];
  checkPendingRequests(): void;
}

/**
 * kafkajs 2.2.4 schedules its pending-request check `throttledUntil - now` ms ahead, a negative
 * number when it is not throttled; Node ≥ 23 then prints a TimeoutNegativeWarning into the app's
 * stderr on every connection (tulios/kafkajs#1751, unfixed upstream). Same method, delay clamped
 * to the 1 ms Node would use anyway.
 */
function clampPendingCheckDelay(): void {
  const require = createRequire(import.meta.url);
  let queueClass: { prototype: { scheduleCheckPendingRequests: (this: PendingCheckQueue) => void } };
  try {
    queueClass = require('kafkajs/src/network/requestQueue/index.js') as typeof queueClass;
  } catch {
    return; // a different kafkajs layout: leave it alone
  }
  const checkIntervalMillis = 10; // kafkajs's CHECK_PENDING_REQUESTS_INTERVAL
  queueClass.prototype.scheduleCheckPendingRequests = function (this: PendingCheckQueue) {
    if (this.throttleCheckTimeoutId !== null) return;
    let delay = this.throttledUntil - Date.now();
    if (this.pending.length > 0 && delay <= 0) delay = checkIntervalMillis;
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      Math.max(1, delay),
    );
  };
}

clampPendingCheckDelay();
