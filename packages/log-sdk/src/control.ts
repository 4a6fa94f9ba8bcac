import type { LineRingMemory } from './line-ring.js';
import type { TransportConfig } from './options.js';
import type { DeliveryStats } from './stats.js';

/** What createLogger hands its worker (worker.ts): plain data and shared memory. */
export interface WorkerData {
  readonly config: TransportConfig;
  readonly ring: LineRingMemory;
}

/**
 * Messages between a logger (app thread) and its worker, over the worker's port. Lines do not
 * travel here: they go through the shared ring.
 */
export type ControlMessage =
  | { readonly type: 'flush'; readonly id: number; readonly timeoutMillis: number }
  | { readonly type: 'flushed'; readonly id: number; readonly stats: DeliveryStats }
  | { readonly type: 'stats'; readonly stats: DeliveryStats }
  /** The worker's last word: its queue is delivered or counted, Kafka disconnected. */
  | { readonly type: 'closed'; readonly stats: DeliveryStats };

/** How often the worker publishes its counters while they change. */
export const statsIntervalMillis = 1000;
