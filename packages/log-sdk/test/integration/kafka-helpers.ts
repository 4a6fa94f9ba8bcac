import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { createTopics } from '@graybridge/rig';

const execFileAsync = promisify(execFile);

export interface ReadRecord {
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly value: Record<string, unknown>;
  readonly partition: number;
}

/** A fresh topic per test: tests share one broker. */
export async function createTopic(
  brokers: readonly string[],
  partitions = 1,
  topic = `sdk-${randomUUID()}`,
): Promise<string> {
  await createTopics(brokers, [topic], partitions);
  return topic;
}

/** Every record of `topic`, read by kcat (librdkafka): an independent client, which also decompresses. */
export async function readTopic(kcat: string, brokers: readonly string[], topic: string): Promise<ReadRecord[]> {
  const { stdout } = await execFileAsync(
    kcat,
    ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\t%k\t%h\t%s\n'],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [partition = '', key = '', headers = '', ...value] = line.split('\t');
      return {
        partition: Number(partition),
        key,
        headers: Object.fromEntries(
          headers
            .split(',')
            .filter((h) => h !== '')
            .map((h) => h.split('=') as [string, string]),
        ),
        value: JSON.parse(value.join('\t')) as Record<string, unknown>,
      };
    });
}

/** The `seq` fields of records, for loss and order checks. */
export function sequence(records: readonly ReadRecord[]): number[] {
  return records.map((r) => r.value.seq as number);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
