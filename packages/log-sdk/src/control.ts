import type { DeliveryStats } from './stats.js';

/**
 * Messages between a logger (app thread) and its transport worker, over a BroadcastChannel whose
 * name the logger passes in the transport options (plain data, so it survives the structured clone
 * that pino's transport options go through).
 */
export type ControlMessage =
  | { readonly type: 'flush'; readonly id: number; readonly timeoutMillis: number }
  | { readonly type: 'flushed'; readonly id: number; readonly stats: DeliveryStats }
  | { readonly type: 'stats'; readonly stats: DeliveryStats }
  /** The worker's last word: its queue is delivered or counted, Kafka disconnected. */
  | { readonly type: 'closed'; readonly stats: DeliveryStats };

/** How often the worker publishes its counters while they change. */
export const statsIntervalMillis = 1000;
