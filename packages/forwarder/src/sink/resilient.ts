import { setTimeout as sleep } from 'node:timers/promises';
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import type { GelfPayload, Sink, SinkOutcome } from './sink.js';

export interface RetryOptions {
  /** Tries per batch, the first included. @defaultValue 5 */
  readonly attempts: number;
  /** @defaultValue 200 */
  readonly initialMillis: number;
  /** @defaultValue 10000 */
  readonly maxMillis: number;
}

/**
 * Retries retryable outcomes with jittered exponential backoff; a sent outcome, or one whose
 * error retrying cannot fix, is returned at once. After `attempts` the last retryable outcome is returned: the pipeline then
 * pauses its partitions (Kafka keeps the records) instead of retrying forever in here.
 */
export function withRetry(sink: Sink, options: RetryOptions, wait: (millis: number) => Promise<unknown> = sleep): Sink {
  return {
    endpoint: sink.endpoint,
    healthy: () => sink.healthy(),
    close: () => sink.close(),
    async send(batch: readonly GelfPayload[]): Promise<SinkOutcome> {
      let outcome = await sink.send(batch);
      // A non-retriable error (TLS, config) is not retried here, nor is an open circuit (the breaker
      // decides when to try again): the source holds the batch instead.
      const worthRetrying = (current: SinkOutcome): boolean =>
        current.kind === 'retryable' &&
        current.error.retriable &&
        current.error.code !== ForwarderErrorCodes.sinkCircuitOpen;
      for (let attempt = 1; attempt < options.attempts && worthRetrying(outcome); attempt += 1) {
        const ceiling = Math.min(options.maxMillis, options.initialMillis * 2 ** (attempt - 1));
        await wait(ceiling / 2 + Math.random() * (ceiling / 2));
        outcome = await sink.send(batch);
      }
      return outcome;
    },
  };
}

export interface BreakerOptions {
  /** Consecutive retryable outcomes that open the circuit. @defaultValue 5 */
  readonly failureThreshold: number;
  /** How long it stays open before one trial batch. @defaultValue 10000 */
  readonly cooldownMillis: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker around a sink: after `failureThreshold` consecutive failures it stops sending
 * for `cooldownMillis` (answering retryable at once, so an unreachable Graylog is not hammered),
 * then lets one batch through; success closes it. Its state feeds readiness.
 */
export class CircuitBreaker implements Sink {
  readonly endpoint: string;
  private failures = 0;
  private openedAt = 0;
  private state: BreakerState = 'closed';
  private trialInFlight = false;
  private lastError: ForwarderError | undefined;

  constructor(
    private readonly sink: Sink,
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.endpoint = sink.endpoint;
  }

  currentState(): BreakerState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.options.cooldownMillis) return 'half-open';
    return this.state;
  }

  healthy(): boolean {
    return this.currentState() === 'closed' && this.sink.healthy();
  }

  /** Why the last attempt failed, until one succeeds (for readiness and logs). */
  lastFailure(): ForwarderError | undefined {
    return this.lastError;
  }

  async send(batch: readonly GelfPayload[]): Promise<SinkOutcome> {
    const state = this.currentState();
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) {
      return {
        kind: 'retryable',
        error: new ForwarderError(
          ForwarderErrorCodes.sinkCircuitOpen,
          `${this.endpoint}: circuit open after ${this.failures} consecutive failures`,
          {
            retriable: true,
          },
        ),
      };
    }
    this.trialInFlight = state === 'half-open';
    let outcome: SinkOutcome;
    try {
      outcome = await this.sink.send(batch);
    } catch (error) {
      // A transport answers rather than throws; one that throws anyway counts as failing, so the
      // breaker still opens and closes (a trial left in flight would keep it half-open for good).
      outcome = {
        kind: 'retryable',
        error: new ForwarderError(
          ForwarderErrorCodes.sinkUnreachable,
          `${this.endpoint}: ${error instanceof Error ? error.message : String(error)}`,
          {
            retriable: true,
            cause: error,
          },
        ),
      };
    } finally {
      this.trialInFlight = false;
    }
    if (outcome.kind === 'retryable') {
      this.lastError = outcome.error;
      this.failures += 1;
      if (state === 'half-open' || this.failures >= this.options.failureThreshold) {
        this.state = 'open';
        this.openedAt = this.now();
      }
    } else {
      this.lastError = undefined;
      this.failures = 0;
      this.state = 'closed';
    }
    return outcome;
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}
