import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createContextMixin, mergeMixin } from './context.js';
import type { ControlMessage } from './control.js';
import { LogSdkError, LogSdkErrorCodes } from './errors.js';
import { defaultRecordKey, detectPodIdentity, detectServiceIdentity, identityFields } from './identity.js';
import { resolveTransportConfig, validateLoggerOptions, type LoggerOptions } from './options.js';
import { emptyStats, type DeliveryStats } from './stats.js';

/** A pino logger whose records go to Kafka, with delivery control on top. */
export type Logger = Omit<pino.Logger, 'flush'> & {
  /**
   * Resolves once every record logged before the call reached Kafka or was counted as dropped
   * (or `shutdownTimeoutMillis` passed), with the delivery counters. Also calls `callback`, as
   * pino's `flush` does.
   */
  flush(callback?: (error?: Error) => void): Promise<DeliveryStats>;
  /** Flushes, stops the transport worker and disconnects from Kafka. Later records go to stdout. */
  close(): Promise<DeliveryStats>;
  /** The latest delivery counters (updated every second while they change, and on flush). */
  deliveryStats(): DeliveryStats;
};

const transportTarget = fileURLToPath(new URL('./transport.js', import.meta.url));

type ThreadStream = ReturnType<typeof pino.transport> & {
  flush(callback: (error?: Error) => void): void;
  end(): void;
  on(event: 'ready' | 'close' | 'error', listener: (error?: Error) => void): unknown;
};

/** Resolves after `promise` or after `millis`, whichever comes first; never rejects. */
async function within(promise: Promise<unknown>, millis: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, millis))),
  ]);
  clearTimeout(timer);
}

/**
 * The worker's records die young: left alone, V8 grows its young generation to 64 MiB over the
 * first minutes of steady logging (RSS +50 MiB, docs/benchmarks.md "Soak") for no gain in
 * delivery rate. Its old generation (the buffer) is not limited here: `buffer.maxBytes` bounds it.
 */
const transportWorkerLimits = { maxYoungGenerationSizeMb: 8 };

/**
 * Creates a pino logger that delivers to Kafka from a worker thread. Throws a `LogSdkError`
 * (code `GB_SDK_INVALID_OPTION`) naming the option when an option is wrong; never throws later.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const checked = validateLoggerOptions(options);
  const pod = detectPodIdentity();
  const service = detectServiceIdentity(checked);
  const channelName = `graybridge-log-sdk-${randomUUID()}`;
  const config = resolveTransportConfig(checked, {
    defaultKey: defaultRecordKey(pod),
    identityJson: null, // in pino's `base` below: serialised once, not per record
    controlChannel: channelName,
  });
  const shutdownTimeoutMillis = config.shutdownTimeoutMillis;

  const transport = pino.transport({
    target: transportTarget,
    options: { resolved: config },
    worker: { resourceLimits: transportWorkerLimits },
  }) as ThreadStream;
  const ready = once(transport, 'ready');
  let workerGone = false;
  let closed = false;
  transport.on('error', (error?: Error) => {
    workerGone = true;
    const reason = error === undefined ? 'unknown' : error.message;
    process.stderr.write(`graybridge log-sdk: transport worker failed (${reason}); records go to stdout\n`);
  });
  transport.on('close', () => (workerGone = true));

  // Records never throw into the app: once the worker is gone (or the logger closed), stdout.
  const destination = {
    write(line: string): void {
      if (closed || workerGone) {
        process.stdout.write(line);
        return;
      }
      try {
        transport.write(line);
      } catch {
        workerGone = true;
        process.stdout.write(line);
      }
    },
  };

  const userPino = checked.pino ?? {};
  const userMixin = userPino.mixin;
  const contextMixin = createContextMixin(checked.traceContext ?? true);
  const base = {
    ...(userPino.base === undefined ? { pid: process.pid, hostname: hostname() } : (userPino.base ?? {})),
    ...identityFields(pod, service),
  };
  const logger = pino(
    {
      ...userPino,
      base,
      ...(userMixin === undefined
        ? { mixin: contextMixin, mixinMergeStrategy: userPino.mixinMergeStrategy ?? mergeMixin }
        : {
            mixin: (merge: object, level: number, self: pino.Logger) => ({
              ...contextMixin(),
              ...userMixin(merge, level, self),
            }),
          }),
    },
    destination,
  ) as unknown as Logger;

  let latest = emptyStats();
  let nextFlushId = 0;
  const pendingFlushes = new Map<number, (stats: DeliveryStats) => void>();
  let workerClosed: (() => void) | undefined;
  const channel = new BroadcastChannel(channelName);
  channel.unref();
  channel.onmessage = (event: MessageEvent) => {
    const message = event.data as ControlMessage;
    if (message.type === 'flush') return;
    latest = message.stats;
    if (message.type === 'flushed') pendingFlushes.get(message.id)?.(message.stats);
    if (message.type === 'closed') workerClosed?.();
  };

  async function flushDelivery(timeoutMillis: number): Promise<DeliveryStats> {
    if (workerGone) return latest;
    const deadline = Date.now() + timeoutMillis;
    await within(ready, timeoutMillis);
    // pino → worker: the shared buffer is drained into the worker...
    await within(new Promise<void>((resolve) => transport.flush(() => resolve())), Math.max(0, deadline - Date.now()));
    // ...worker → Kafka: the worker's queue up to this point is delivered.
    const id = (nextFlushId += 1);
    channel.ref(); // an app awaiting flush at the end of main must not exit under it
    try {
      await within(
        new Promise<void>((resolve) => {
          pendingFlushes.set(id, () => resolve());
          channel.postMessage({
            type: 'flush',
            id,
            timeoutMillis: Math.max(0, deadline - Date.now()),
          } satisfies ControlMessage);
        }),
        Math.max(0, deadline - Date.now()) + 250,
      );
    } finally {
      pendingFlushes.delete(id);
      if (pendingFlushes.size === 0) channel.unref();
    }
    return latest;
  }

  let closing: Promise<DeliveryStats> | undefined;
  /** Ends the worker, whose close delivers its queue within the shutdown timeout (once, not twice). */
  function close(): Promise<DeliveryStats> {
    closing ??= (async () => {
      closed = true;
      removeSignalHandlers();
      if (!workerGone) {
        channel.ref();
        const lastWord = new Promise<void>((resolve) => (workerClosed = resolve));
        const finished = once(transport, 'close');
        transport.end();
        await within(Promise.all([lastWord, finished]), shutdownTimeoutMillis + 1000);
      }
      channel.close();
      return latest;
    })();
    return closing;
  }

  const removeSignalHandlers = (checked.handleSignals ?? true) ? installSignalHandlers(() => close()) : () => undefined;

  Object.defineProperties(logger, {
    flush: {
      value: (callback?: (error?: Error) => void): Promise<DeliveryStats> => {
        if (closing !== undefined) {
          const error = new LogSdkError(LogSdkErrorCodes.closed, 'flush after close: the logger is closed');
          callback?.(error);
          return closing;
        }
        const flushed = flushDelivery(shutdownTimeoutMillis);
        if (callback) void flushed.then(() => callback());
        return flushed;
      },
    },
    close: { value: close },
    deliveryStats: { value: () => latest },
  });
  return logger;
}

/**
 * On SIGTERM/SIGINT: flush (bounded by the shutdown timeout), then, if nobody else handles the
 * signal, re-raise it so the process ends exactly as it would have without us.
 */
function installSignalHandlers(flushAndClose: () => Promise<unknown>): () => void {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const handler = (signal: NodeJS.Signals): void => {
    void flushAndClose().finally(() => {
      process.removeListener(signal, handler);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.removeListener(signal, handler);
  };
}
