// One simulated pod of the fault suite's load: logs sequence-numbered records through
// @graybridge/log-sdk at a steady rate, exactly as an app would (identity from POD_NAME etc.).
//
// Reports on stdout as `LOADGEN {json}` lines (the SDK's own stdout mirror is off): progress
// every 250 ms, and a final line when its count is logged and delivered, or at SIGTERM. At SIGTERM
// it stops logging and reports synchronously first; the SDK's signal handler then flushes what is
// queued and lets the signal end the process — the path a pod takes when it is stopped.
import { writeSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLogger, type DeliveryStats } from '@graybridge/log-sdk';
import { reportPrefix, type LoadgenReport } from './load.js';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const run = env('LOAD_RUN', 'run');
const source = `${env('POD_NAMESPACE', 'default')}/${env('POD_NAME', 'loadgen')}`;
const rate = Number(env('LOAD_RATE', '1000'));
const records = Number(env('LOAD_RECORDS', '0')); // 0: until SIGTERM
const poisonEvery = Number(env('LOAD_POISON_EVERY', '0'));
const padding = 'p'.repeat(Number(env('LOAD_PADDING_BYTES', '200')));
const poison = 's'.repeat(5000);

let logged = 0;
let stopped = false;
let peakRss = process.memoryUsage.rss();
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

function report(done: boolean, stats: DeliveryStats, signal?: string): void {
  const line: LoadgenReport = {
    source,
    logged,
    done,
    ...(signal === undefined ? {} : { signal }),
    stats,
    eventLoopDelayP99Millis: delay.percentile(99) / 1e6,
    eventLoopDelayMaxMillis: delay.max / 1e6,
    peakRssMiB: peakRss / 1048576,
  };
  writeSync(1, `${reportPrefix}${JSON.stringify(line)}\n`);
}

// Registered before the logger's own handler, so it runs first: no record is logged after the
// count it reports.
process.once('SIGTERM', () => {
  stopped = true;
  report(false, logger.deliveryStats(), 'SIGTERM');
});

const logger = createLogger({
  service: 'loadgen',
  mirrorToStdoutWhenUnavailable: false,
  warnIntervalMillis: 60_000,
  shutdownTimeoutMillis: Number(env('LOAD_SHUTDOWN_TIMEOUT_MILLIS', '10000')),
  buffer: { maxRecords: Number(env('LOAD_BUFFER_RECORDS', '50000')) },
  kafka: { topic: env('GRAYBRIDGE_KAFKA_TOPIC', 'logs'), connectionTimeoutMillis: 1000, requestTimeoutMillis: 5000 },
});

const started = performance.now();
const progress = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  report(false, logger.deliveryStats());
}, 250);

function tick(): void {
  if (stopped) return;
  const due = Math.floor(((performance.now() - started) / 1000) * rate);
  const until = records > 0 ? Math.min(due, records) : due;
  while (logged < until) {
    const seq = logged;
    logged += 1;
    const fields = {
      load_run: run,
      load_source: source,
      load_seq: seq,
      request: { method: 'GET', path: `/orders/${seq}`, status: 200, duration_ms: seq % 97 },
      padding,
      ...(poisonEvery > 0 && seq % poisonEvery === poisonEvery - 1 ? { stack: poison } : {}),
    };
    logger.info(fields, `load ${seq}`);
  }
  if (records > 0 && logged >= records) {
    stopped = true;
    void logger.close().then((stats) => {
      clearInterval(progress);
      report(true, stats);
      process.exit(0);
    });
    return;
  }
  setTimeout(tick, 10);
}
tick();
