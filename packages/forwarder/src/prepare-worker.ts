// A worker thread of the prepare pool (preparer.ts): decodes a batch, asks the main thread for the
// metadata of the pods it names, then enriches and encodes it.
import { parentPort, workerData } from 'node:worker_threads';
import type { PodLookup } from '@graybridge/enricher';
import { decodeAll, podQueries, prepareDecoded, queryKey } from './prepare.js';
import { unpackBatch, type FromWorker, type ToWorker, type WorkerData } from './preparer.js';
import type { DecodedRecord } from './record.js';

const { options } = workerData as WorkerData;
const port = parentPort;
if (port === null) throw new Error('prepare-worker.js runs as a worker thread');

/** Batches waiting for their lookups. */
const waiting = new Map<
  number,
  { decoded: DecodedRecord[]; keys: string[]; extraFields: Readonly<Record<string, string>> | undefined }
>();

function finish(
  id: number,
  decoded: DecodedRecord[],
  found: ReadonlyMap<string, PodLookup | undefined>,
  extraFields: Readonly<Record<string, string>> | undefined,
): void {
  const prepared = prepareDecoded(decoded, (query) => found.get(queryKey(query)), {
    ...options,
    ...(extraFields === undefined ? {} : { extraFields }),
  });
  port?.postMessage({ kind: 'prepared', id, prepared } satisfies FromWorker);
}

port.on('message', (message: ToWorker) => {
  try {
    if (message.kind === 'prepare') {
      const records = unpackBatch(message.batch);
      const decoded = decodeAll(records, options.decode);
      const queries = podQueries(decoded);
      if (queries.length === 0) {
        finish(message.id, decoded, new Map(), message.extraFields);
        return;
      }
      waiting.set(message.id, { decoded, keys: queries.map(queryKey), extraFields: message.extraFields });
      port.postMessage({ kind: 'queries', id: message.id, queries } satisfies FromWorker);
      return;
    }
    const batch = waiting.get(message.id);
    if (batch === undefined) return;
    waiting.delete(message.id);
    const found = new Map(batch.keys.map((key, i) => [key, message.lookups[i]]));
    finish(message.id, batch.decoded, found, batch.extraFields);
  } catch (error) {
    waiting.delete(message.id);
    port.postMessage({ kind: 'failed', id: message.id, message: (error as Error).message } satisfies FromWorker);
  }
});
