import { pino } from 'pino';
import { loadConfig } from '../config/load.js';
import type { ForwarderConfig } from '../config/schema.js';
import { deadLetterReasons, recordOf, type DeadLetter, type DeadLetterReason } from '../deadletter/dead-letter.js';
import { DeadLetterQueue, type DeadLetterFilter, type StoredDeadLetter } from '../deadletter/queue.js';
import { ForwarderError, ForwarderErrorCodes, invalidOption } from '../errors.js';
import { pipelineFromConfig, startEnricher } from '../forwarder.js';
import { createSink } from '../sink/from-config.js';
import { parseTime, takeFlags } from './args.js';

export const dlqUsage = `usage: graybridge dlq <list|show|replay|purge> [filters] [config options]

  list    [--limit N] [--json]     dead letters, oldest first
  show    ID                       one dead letter, with its original record
  replay                           send them through the current pipeline (e.g. after a config fix);
                                   delivered ones leave the queue, refused ones stay with the new error
  purge   --yes                    delete them

filters: --reason too_large|sink_rejected|decode_error  --namespace NS
         --since TIME  --until TIME   (dead-lettered at; ISO 8601 or an age: 30m, 6h, 7d)
The queue is the one the forwarder's config names (redis.url, deadLetters.queue).`;

const replayChunk = 200;

function filterFrom(values: Partial<Record<'reason' | 'namespace' | 'since' | 'until', string>>): DeadLetterFilter {
  const { reason, namespace, since, until } = values;
  if (reason !== undefined && !(deadLetterReasons as readonly string[]).includes(reason))
    throw invalidOption('--reason', deadLetterReasons.join(', '), reason);
  const sinceMillis = since === undefined ? undefined : parseTime(since, '--since');
  const untilMillis = until === undefined ? undefined : parseTime(until, '--until');
  if (sinceMillis !== undefined && untilMillis !== undefined && sinceMillis >= untilMillis)
    throw invalidOption('--since/--until', 'a time range whose start is before its end', `${since} .. ${until}`);
  return {
    ...(reason === undefined ? {} : { reason: reason as DeadLetterReason }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(sinceMillis === undefined ? {} : { sinceMillis }),
    ...(untilMillis === undefined ? {} : { untilMillis }),
  };
}

function openQueue(config: ForwarderConfig): DeadLetterQueue {
  if (config.redis.url === undefined) {
    throw new ForwarderError(
      ForwarderErrorCodes.invalidOption,
      'missing option redis.url (env GRAYBRIDGE_REDIS_URL, flag --redis-url): the dead-letter queue lives in Redis',
    );
  }
  return new DeadLetterQueue({ url: config.redis.url, name: config.deadLetters.queue });
}

function summaryLine({ id, letter }: StoredDeadLetter): string {
  const at = new Date(letter.deadLetteredAtMillis).toISOString();
  const where = letter.namespace === undefined ? '-' : `${letter.namespace}/${letter.pod ?? '-'}`;
  return `${id}  ${at}  ${letter.reason.padEnd(13)}  ${where}  ${letter.error}`;
}

function progress(done: number, total: number, sent: number, back: number): void {
  const width = 30;
  const filled = Math.round((done / Math.max(1, total)) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round((done / Math.max(1, total)) * 100)}% ${done}/${total}  sent ${sent}, back in the queue ${back}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${bar}`);
  else process.stderr.write(`${bar}\n`);
}

async function replay(
  config: ForwarderConfig,
  queue: DeadLetterQueue,
  letters: readonly StoredDeadLetter[],
): Promise<number> {
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const enricher = await startEnricher(config.kubernetes, config.redis.url, logger);
  const { sink } = createSink(config.gelf);
  const again = new Map<string, DeadLetter>();
  const pipeline = pipelineFromConfig(config, {
    sink,
    enricher: () => enricher,
    deadLetters: {
      add(batch) {
        for (const letter of batch) again.set(letter.eventId, letter);
        return Promise.resolve();
      },
    },
  });
  let done = 0;
  let back = 0;
  try {
    for (let start = 0; start < letters.length; start += replayChunk) {
      const chunk = letters.slice(start, start + replayChunk);
      again.clear();
      if ((await pipeline.handle(chunk.map(({ letter }) => recordOf(letter)))) === 'retry') {
        process.stderr.write('\n');
        console.error(
          `graybridge dlq replay: ${sink.endpoint} cannot take messages now; stopped after ${done} of ${letters.length} (the rest stay in the queue)`,
        );
        return 1;
      }
      // Delivered (or intentionally excluded) ones leave the queue; refused ones stay, with the new error.
      await queue.remove(chunk.filter(({ id }) => !again.has(id)).map(({ id }) => id));
      for (const [id, letter] of again) await queue.replace(id, letter);
      done += chunk.length;
      back += again.size;
      progress(done, letters.length, done - back, back);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(`replayed ${done}: ${done - back} delivered, ${back} back in the queue`);
    return back === 0 ? 0 : 1;
  } finally {
    await sink.close();
    await enricher?.stop();
  }
}

/** `graybridge dlq list|show|replay|purge`. */
export async function dlq(argv: string[]): Promise<number> {
  const [action, ...args] = argv;
  const { values, flags, rest } = takeFlags(args, ['reason', 'namespace', 'since', 'until', 'limit'], ['json', 'yes']);
  const id = action === 'show' && rest[0] !== undefined && !rest[0].startsWith('--') ? rest.shift() : undefined;
  if (action === undefined || !['list', 'show', 'replay', 'purge'].includes(action)) {
    console.error(dlqUsage);
    return 2;
  }
  const filter = filterFrom(values);
  const limit = values.limit === undefined ? Number.POSITIVE_INFINITY : Number(values.limit);
  if (!(limit >= 1)) throw invalidOption('--limit', 'a number ≥ 1', values.limit);
  const { config } = loadConfig({ argv: rest });
  const queue = openQueue(config);
  try {
    switch (action) {
      case 'show': {
        if (id === undefined) throw invalidOption('dlq show', 'a dead-letter id (see dlq list)', undefined);
        const letter = await queue.get(id);
        if (letter === undefined) {
          console.error(`graybridge dlq show: no dead letter ${JSON.stringify(id)} in ${queue.endpoint}`);
          return 1;
        }
        const value = letter.value === null ? null : Buffer.from(letter.value, 'base64').toString('utf8');
        console.log(JSON.stringify({ ...letter, value }, null, 2));
        return 0;
      }
      case 'list': {
        const found = await queue.list(filter, limit);
        if (flags.json) for (const entry of found) console.log(JSON.stringify(entry));
        else {
          console.log(`${found.length} dead letter(s) in ${queue.endpoint}`);
          for (const entry of found) console.log(summaryLine(entry));
        }
        return 0;
      }
      case 'purge': {
        const found = await queue.list(filter, limit);
        if (!flags.yes) {
          console.error(`graybridge dlq purge: would delete ${found.length} dead letter(s); add --yes to do it`);
          return 2;
        }
        await queue.remove(found.map(({ id: jobId }) => jobId));
        console.log(`deleted ${found.length} dead letter(s) from ${queue.endpoint}`);
        return 0;
      }
      default: {
        const found = await queue.list(filter, limit);
        if (found.length === 0) {
          console.log('no dead letters match');
          return 0;
        }
        return await replay(config, queue, found);
      }
    }
  } finally {
    await queue.close();
  }
}
