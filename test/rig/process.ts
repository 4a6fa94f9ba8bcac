import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A service process the rig started, in a process group of its own. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * When set, a watchdog kills the service's process group as soon as this pid is gone, so an
   * interrupted or crashed test run leaves no stray broker behind.
   */
  readonly ownerPid?: number;
}

/** Starts `command` detached (own process group) with stdout and stderr appended to `logFile`. */
export function startService(options: StartOptions): ServiceProcess {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
    child.unref();
    if (options.ownerPid !== undefined) startWatchdog(options.ownerPid, child.pid);
    return { name: options.name, pid: child.pid, logFile: options.logFile };
  } finally {
    closeSync(log);
  }
}

function startWatchdog(ownerPid: number, groupPid: number): void {
  // A shell loop rather than a Node timer: it must outlive this process by design.
  const script =
    `while kill -0 ${ownerPid} 2>/dev/null && kill -0 ${groupPid} 2>/dev/null; do sleep 1; done; ` +
    `kill -TERM -${groupPid} 2>/dev/null; ` +
    `for i in $(seq 50); do kill -0 -${groupPid} 2>/dev/null || exit 0; sleep 0.1; done; ` +
    `kill -KILL -${groupPid} 2>/dev/null; exit 0`;
  const watchdog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.unref();
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole group, then SIGKILL after `graceMillis`. Resolves once the leader is gone. */
export async function stopService(pid: number, graceMillis = 10_000): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMillis;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    signalGroup(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  // Children that left the group's leader behind (e.g. a JVM's helpers) get the same end.
  signalGroup(pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** A port the kernel just handed out on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port from the kernel'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Last lines of a log, for error messages that say why a service did not come up. */
export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `probe` until it resolves true. Fails early when the service process died and, at the
 * deadline, with the probe's last error and the service's log tail.
 */
export async function waitUntilReady(
  service: ServiceProcess,
  probe: () => Promise<boolean>,
  timeoutMillis: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  let lastError = 'not ready';
  while (Date.now() < deadline) {
    if (!isAlive(service.pid)) {
      throw new Error(`${service.name} exited during start-up; log ${service.logFile}:\n${logTail(service.logFile)}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  throw new Error(
    `${service.name} not ready after ${timeoutMillis} ms (${lastError}); log ${service.logFile}:\n${logTail(service.logFile)}`,
  );
}

/** Runs a rig install script (bash) and returns what it printed on stdout: the installed paths. */
export function runInstallScript(scriptPath: string): string {
  const result = spawnSync('bash', [scriptPath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`${scriptPath} failed with exit code ${String(result.status)}`);
  return result.stdout.trim();
}
