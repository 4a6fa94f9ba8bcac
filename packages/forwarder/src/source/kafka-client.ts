import type { ConnectionOptions } from 'node:tls';
import type { BaseOptions } from '@platformatic/kafka';

/** How to reach the brokers, shared by the consumer, the lag reader and `graybridge doctor`. */
export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly tls?: ConnectionOptions;
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
}

const saslMechanisms = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

export function clientOptions(connection: KafkaConnection, retries?: number): BaseOptions {
  return {
    clientId: connection.clientId,
    bootstrapBrokers: [...connection.brokers],
    ...(retries === undefined ? {} : { retries }),
    ...(connection.tls === undefined ? {} : { tls: connection.tls }),
    ...(connection.sasl === undefined
      ? {}
      : {
          sasl: {
            mechanism: saslMechanisms[connection.sasl.mechanism],
            username: connection.sasl.username,
            password: connection.sasl.password,
          },
        }),
  };
}

/**
 * The client reports a failure as a tree ("joinGroup failed 4 times" → "Cannot connect to any
 * broker" → "Connection to host:port failed" → "SASL authentication failed"). This keeps what an
 * operator acts on: each distinct chain from a connection down to its cause, without the
 * retry bookkeeping in between.
 */
export function explainKafkaError(error: unknown): string {
  const chains = new Set<string>();
  const walk = (node: unknown, path: readonly string[]): void => {
    if (!(node instanceof Error)) return;
    const children = [
      ...((node as { errors?: unknown[] }).errors ?? []),
      ...(node.cause === undefined ? [] : [node.cause]),
    ];
    const wrapper = node.constructor.name === 'MultipleErrors' || node.constructor.name === 'AggregateError';
    const message = node.message.replace(/\.$/, '');
    const here = wrapper || path.at(-1) === message ? path : [...path, message];
    if (children.length === 0) chains.add(here.join(': ') || message);
    for (const child of children) walk(child, here);
  };
  walk(error, []);
  return [...chains].join('; ') || String(error);
}
