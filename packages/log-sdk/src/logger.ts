import { hostname } from 'node:os';
import pino from 'pino';
import { createContextMixin, mergeMixin } from './context.js';
import { LogSdkError, LogSdkErrorCodes } from './errors.js';
import { WorkerHandOver } from './hand-over.js';
import { defaultRecordKey, detectPodIdentity, detectServiceIdentity, identityFields } from './identity.js';
import { resolveTransportConfig, validateLoggerOptions, type LoggerOptions } from './options.js';
import type { DeliveryStats } from './stats.js';

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

/**
 * Creates a pino logger that delivers to Kafka from a worker thread. Throws a `LogSdkError`
 * (code `GB_SDK_INVALID_OPTION`) naming the option when an option is wrong; never throws later.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const checked = validateLoggerOptions(options);
  const pod = detectPodIdentity();
  const service = detectServiceIdentity(checked);
  const config = resolveTransportConfig(checked, {
    defaultKey: defaultRecordKey(pod),
    identityJson: null, // in pino's `base` below: serialised once, not per record
  });
  const shutdownTimeoutMillis = config.shutdownTimeoutMillis;

  // Records never throw into the app: the hand-over writes them to stdout once the worker is gone.
  const handOver = new WorkerHandOver(config);
  const destination = { write: (line: string): void => handOver.write(line) };

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

  let closing: Promise<DeliveryStats> | undefined;
  function close(): Promise<DeliveryStats> {
    closing ??= handOver.close().finally(() => unwatchSignals(close));
    return closing;
  }
  if (checked.handleSignals ?? true) watchSignals(close);

  Object.defineProperties(logger, {
    flush: {
      value: (callback?: (error?: Error) => void): Promise<DeliveryStats> => {
        if (closing !== undefined) {
          const error = new LogSdkError(LogSdkErrorCodes.closed, 'flush after close: the logger is closed');
          callback?.(error);
          return closing;
        }
        const flushed = handOver.flush(shutdownTimeoutMillis);
        if (callback) void flushed.then(() => callback());
        return flushed;
      },
    },
    close: { value: close },
    deliveryStats: { value: () => handOver.stats() },
  });
  return logger;
}

const signals = ['SIGTERM', 'SIGINT'] as const;

/** The closes of the loggers that handle signals, until they have finished. */
const closeOnSignal = new Set<() => Promise<unknown>>();

/**
 * On SIGTERM/SIGINT: close every such logger (each bounded by its shutdown timeout) and once all
 * have finished — not the first: its re-raise would end the process under the others — re-raise
 * the signal if nobody else handles it, so the process ends exactly as it would have without us.
 */
function onSignal(signal: NodeJS.Signals): void {
  void Promise.allSettled([...closeOnSignal].map((close) => close())).then(() => {
    for (const each of signals) process.removeListener(each, onSignal);
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function watchSignals(close: () => Promise<unknown>): void {
  closeOnSignal.add(close);
  for (const signal of signals) if (!process.listeners(signal).includes(onSignal)) process.on(signal, onSignal);
}

/** A closed logger stops watching; with none left, signals take their course again at once. */
function unwatchSignals(close: () => Promise<unknown>): void {
  closeOnSignal.delete(close);
  if (closeOnSignal.size === 0) for (const signal of signals) process.removeListener(signal, onSignal);
}
