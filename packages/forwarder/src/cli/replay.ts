import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { kafkaConnectionOf } from '../config/files.js';
import { loadConfig } from '../config/load.js';
import type { ForwarderConfig } from '../config/schema.js';
import { ForwarderError, ForwarderErrorCodes, invalidOption } from '../errors.js';
import { ReplayJobs, replayRanges, type ReplaySpec } from '../replay/replay.js';
import { clientOptions } from '../source/kafka-client.js';
import { parseTime, takeFlags } from './args.js';

export const replayUsage = `usage: graybridge replay --topic T --since TIME --until TIME [--namespace NS] [--dry-run] [--detach] [config options]
       graybridge replay status ID
       graybridge replay cancel ID

Ships a time window of a topic to Graylog again (after an outage of the Graylog side, a lost index,
a config fix). The job runs in the forwarders (BullMQ on the config's redis.url), reads the topic
with its own consumer (nothing committed), keeps the records whose Kafka time is in [since, until)
— and in NS when given — and sends them through the normal pipeline with _replay_job. TIME is ISO
8601 or an age (30m, 6h, 7d). Without --detach the command follows the job with a progress bar.`;

function jobs(config: ForwarderConfig): ReplayJobs {
  if (config.redis.url === undefined) {
    throw new ForwarderError(
      ForwarderErrorCodes.invalidOption,
      'missing option redis.url (env GRAYBRIDGE_REDIS_URL, flag --redis-url): replay jobs live in Redis',
    );
  }
  return new ReplayJobs(config.redis.url);
}

function bar(done: number, total: number): string {
  const width = 30;
  const share = total === 0 ? 1 : Math.min(1, done / total);
  return `[${'#'.repeat(Math.round(share * width))}${'.'.repeat(width - Math.round(share * width))}] ${Math.round(share * 100)}% ${done}/${total}`;
}

async function follow(replays: ReplayJobs, id: string): Promise<number> {
  for (;;) {
    const status = await replays.status(id);
    if (status === undefined) {
      console.error(`graybridge replay: job ${id} no longer exists`);
      return 1;
    }
    const progress = status.progress;
    if (progress !== undefined) {
      const line = `${bar(progress.done, progress.total)}  sent ${progress.sent}, outside the window ${progress.skipped}`;
      process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
    }
    if (status.state === 'completed') {
      if (process.stderr.isTTY) process.stderr.write('\n');
      console.log(
        `replay ${id} done: ${progress?.done ?? 0} records read, ${progress?.sent ?? 0} sent, ${progress?.skipped ?? 0} outside the window or namespace`,
      );
      return 0;
    }
    if (status.state === 'failed') {
      if (process.stderr.isTTY) process.stderr.write('\n');
      console.error(
        `graybridge replay: job ${id} ${status.failedReason === 'cancelled' ? 'cancelled' : `failed: ${status.failedReason ?? ''}`}`,
      );
      return 1;
    }
    await sleep(500);
  }
}

/** `graybridge replay …`: enqueue (and follow) a replay job, or show / cancel one. */
export async function replay(argv: string[]): Promise<number> {
  const [action, id, ...more] = argv;
  if (action === 'status' || action === 'cancel') {
    if (id === undefined || id.startsWith('--')) throw invalidOption(`replay ${action}`, 'a job id', id);
    const { config } = loadConfig({ argv: more });
    const replays = jobs(config);
    try {
      if (action === 'cancel') {
        await replays.cancel(id);
        console.log(`replay ${id}: cancel requested`);
        return 0;
      }
      const status = await replays.status(id);
      if (status === undefined) {
        console.error(`graybridge replay: no job ${id}`);
        return 1;
      }
      console.log(JSON.stringify(status));
      return 0;
    } finally {
      await replays.close();
    }
  }
  const { values, flags, rest } = takeFlags(argv, ['topic', 'since', 'until', 'namespace'], ['dry-run', 'detach']);
  if (values.topic === undefined) throw invalidOption('--topic', 'the topic to replay', undefined);
  if (values.since === undefined)
    throw invalidOption('--since', 'the start of the window (ISO 8601 or an age)', undefined);
  const sinceMillis = parseTime(values.since, '--since');
  const untilMillis = values.until === undefined ? Date.now() : parseTime(values.until, '--until');
  if (sinceMillis >= untilMillis)
    throw invalidOption(
      '--since/--until',
      'a time range whose start is before its end',
      `${values.since} .. ${values.until ?? 'now'}`,
    );
  const { config } = loadConfig({ argv: rest });
  const kafka = kafkaConnectionOf(config.kafka, `${config.kafka.clientId}-replay-cli`);
  const admin = new Admin({ ...clientOptions(kafka, 1), connectTimeout: 5000 });
  try {
    if (!(await admin.listTopics()).includes(values.topic))
      throw invalidOption('--topic', `a topic that exists on ${config.kafka.brokers.join(',')}`, values.topic);
  } finally {
    await admin.close().catch(() => undefined);
  }
  const spec: ReplaySpec = {
    topic: values.topic,
    sinceMillis,
    untilMillis,
    ...(values.namespace === undefined ? {} : { namespace: values.namespace }),
  };
  const ranges = await replayRanges(kafka, spec);
  const estimate = ranges.reduce((sum, r) => sum + Number(r.to - r.from), 0);
  const window = `${new Date(sinceMillis).toISOString()} .. ${new Date(untilMillis).toISOString()}`;
  if (flags['dry-run']) {
    console.log(
      `would replay ${values.topic} ${window}: ${estimate} records in the window's offsets${spec.namespace === undefined ? '' : ` (before the namespace filter ${spec.namespace})`}`,
    );
    return 0;
  }
  const replays = jobs(config);
  try {
    const jobId = await replays.enqueue(spec);
    console.log(`replay ${jobId} queued: ${values.topic} ${window}, about ${estimate} records`);
    return flags.detach ? 0 : await follow(replays, jobId);
  } finally {
    await replays.close();
  }
}
