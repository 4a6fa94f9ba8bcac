import { readFileSync } from 'node:fs';
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import type { KafkaConnection } from '../source/kafka-client.js';
import type { ForwarderConfig } from './schema.js';

/** A file a config option names (a CA, a key, a password), with an error naming the option. */
function readOptionFile(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ForwarderError(
      ForwarderErrorCodes.invalidOption,
      `invalid option ${option}: cannot read ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { cause: error },
    );
  }
}

export interface TlsMaterial {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

/** The TLS settings of `kafka.tls` or `gelf.tls` with their files read; undefined when TLS is off. */
export function tlsMaterial(tls: ForwarderConfig['kafka']['tls'], option: string): TlsMaterial | undefined {
  if (!tls.enabled) return undefined;
  const read = (path: string | undefined, name: string): { [key: string]: string } =>
    path === undefined ? {} : { [name]: readOptionFile(path, `${option}.${name}File`) };
  return {
    ...read(tls.caFile, 'ca'),
    ...read(tls.certFile, 'cert'),
    ...read(tls.keyFile, 'key'),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}

/** How to reach the brokers the config names, with TLS files and the SASL password read. */
export function kafkaConnectionOf(kafka: ForwarderConfig['kafka'], clientId: string): KafkaConnection {
  const tls = tlsMaterial(kafka.tls, 'kafka.tls');
  const { sasl } = kafka;
  const password =
    sasl.mechanism === 'none'
      ? ''
      : sasl.passwordFile === undefined
        ? (sasl.password ?? '')
        : readOptionFile(sasl.passwordFile, 'kafka.sasl.passwordFile').trim();
  return {
    brokers: kafka.brokers,
    clientId,
    ...(tls === undefined ? {} : { tls }),
    ...(sasl.mechanism === 'none'
      ? {}
      : { sasl: { mechanism: sasl.mechanism, username: sasl.username ?? '', password } }),
  };
}

/** A `kafka.topics` entry written `/regex/` as its RegExp, undefined for a plain name; throws when invalid. */
export function topicPattern(topic: string): RegExp | undefined {
  const source = /^\/(.+)\/$/.exec(topic)?.[1];
  return source === undefined ? undefined : new RegExp(source);
}
