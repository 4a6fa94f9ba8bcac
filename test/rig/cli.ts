#!/usr/bin/env node
// The rig by hand: `npm run rig -- up [part…]`, `down`, `status`, `env`.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { allRigParts, readRigState, rigEnvironment, startRig, stopRig, type RigPart, type RigState } from './index.js';
import { isAlive } from './process.js';

const usage = `usage: rig <up|down|status|env> [part…] [--dir DIR]
  up [part…]  start the parts not yet running (default: ${allRigParts.join(' ')})
  down        stop everything and remove the rig's directory
  status      each service, its pid and whether it is alive
  env         shell exports of the endpoints: eval "$(npm run -s rig -- env)"
  --dir DIR   the rig's directory (default: ${defaultDir()})`;

function defaultDir(): string {
  return process.env.GRAYBRIDGE_RIG_DIR ?? join(tmpdir(), 'graybridge-rig');
}

function loadState(dir: string): RigState | undefined {
  const file = join(dir, 'state.json');
  return existsSync(file) ? readRigState(file) : undefined;
}

function isRigPart(value: string): value is RigPart {
  return (allRigParts as readonly string[]).includes(value);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  const dir = values.dir ?? defaultDir();
  if (values.help === true || command === undefined) {
    console.log(usage);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  switch (command) {
    case 'up': {
      const unknown = rest.filter((p) => !isRigPart(p));
      if (unknown.length > 0) {
        console.error(`unknown rig part(s): ${unknown.join(', ')}; known: ${allRigParts.join(', ')}`);
        return 2;
      }
      const parts = rest.length > 0 ? rest.filter(isRigPart) : allRigParts;
      const state = await startRig(parts, { dir });
      printStatus(state);
      return 0;
    }
    case 'down': {
      const state = loadState(dir);
      if (state) await stopRig(state);
      console.log(state ? `rig at ${dir} stopped` : `no rig at ${dir}`);
      return 0;
    }
    case 'status': {
      const state = loadState(dir);
      if (!state) {
        console.log(`no rig at ${dir}`);
        return 1;
      }
      printStatus(state);
      return state.processes.every((p) => isAlive(p.pid)) ? 0 : 1;
    }
    case 'env': {
      const state = loadState(dir);
      if (!state) {
        console.error(`no rig at ${dir}: run 'npm run rig -- up' first`);
        return 1;
      }
      for (const [key, value] of Object.entries(rigEnvironment(state))) console.log(`export ${key}='${value}'`);
      return 0;
    }
    default:
      console.error(`unknown command '${command}'\n${usage}`);
      return 2;
  }
}

function printStatus(state: RigState): void {
  console.log(`rig at ${state.dir}`);
  for (const p of state.processes) {
    console.log(
      `  ${p.name.padEnd(15)} pid ${String(p.pid).padEnd(8)} ${isAlive(p.pid) ? 'up' : 'DOWN'}  log ${p.logFile}`,
    );
  }
  if (state.kafka) console.log(`  kafka ${state.kafka.version}   ${state.kafka.brokers.join(',')}`);
  if (state.kafkaSecure?.secure) console.log(`  kafka SASL_SSL  ${state.kafkaSecure.secure.brokers.join(',')}`);
  if (state.redis) console.log(`  redis           ${state.redis.url}`);
  if (state.kube)
    console.log(`  kube-apiserver  ${state.kube.server} (v${state.kube.version}) kubeconfig ${state.kube.kubeconfig}`);
  if (state.helm) console.log(`  helm            ${state.helm.version} ${state.helm.binary}`);
  if (state.kcat) console.log(`  kcat            ${state.kcat.version} ${state.kcat.binary}`);
  if (state.oracle) console.log(`  gelf oracle     graylog2-server ${state.oracle.graylog} on ${state.oracle.java}`);
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  return 1;
});
