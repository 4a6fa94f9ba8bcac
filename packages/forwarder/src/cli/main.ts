#!/usr/bin/env node
// `graybridge <command>`: the forwarder's command line. Exit codes: 0 done, 1 failed at run time,
// 2 bad usage or config (the message names the option).
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import { configCommand } from './config-command.js';
import { dlq, dlqUsage } from './dlq.js';
import { doctor } from './doctor.js';
import { enricher } from './enricher.js';
import { forward } from './forward.js';
import { gelfReceive } from './gelf-receive.js';
import { optionsHelp } from './help.js';
import { replay, replayUsage } from './replay.js';

const usage = `usage: graybridge <command> [options]

commands:
  forward        consume Kafka, enrich, send GELF to Graylog (the DaemonSet's process)
  doctor         check Kafka, the GELF endpoint and the API server with the forwarder's config; print a table
  gelf-receive   a local GELF endpoint (TCP, UDP, HTTP) that applies Graylog's decode rules and prints
                 what Graylog would index
  config         print the effective config (secrets hidden); "config schema" prints its JSON Schema
  dlq            list, show, replay or purge dead letters (records Graylog would not take)
  replay         ship a time window of a topic to Graylog again (a job run by the forwarders)
  enricher       shared mode: watch pods once for the cluster and publish their metadata to Redis
                 for forwarders with kubernetes.mode "redis"

forward, doctor, config and enricher read the same options: --config FILE (YAML or JSON), GRAYBRIDGE_* env
variables, then flags, later ones winning. "graybridge forward --help" lists them all.`;

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  forward,
  doctor,
  'gelf-receive': gelfReceive,
  config: configCommand,
  dlq,
  replay,
  enricher,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`graybridge: unknown command ${JSON.stringify(name)}\n\n${usage}`);
    return 2;
  }
  if ((name === 'dlq' || name === 'replay') && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(name === 'dlq' ? dlqUsage : replayUsage);
    return 0;
  }
  if (name !== 'gelf-receive' && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(optionsHelp(name));
    return 0;
  }
  return command(rest);
}

/**
 * Exits explicitly (client libraries may keep timers alive after a clean stop), but only once
 * stdout and stderr are flushed: writes to a pipe are asynchronous, and `process.exit` would cut
 * e.g. `graybridge dlq list --json | jq` short by whatever was still queued.
 */
function exitWhenFlushed(code: number): void {
  let pending = 2;
  const flushed = (): void => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

main(process.argv.slice(2)).then(exitWhenFlushed, (error: unknown) => {
  const usageError = error instanceof ForwarderError && error.code === ForwarderErrorCodes.invalidOption;
  console.error(`graybridge: ${error instanceof Error ? error.message : String(error)}`);
  exitWhenFlushed(usageError ? 2 : 1);
});
