// How long and how often the fault suite hurts the pipeline, and where its figures go.
// `npm test` runs the short version; `npm run test:faults` sets GRAYBRIDGE_FAULTS=full, and
// GRAYBRIDGE_FAULTS_REPORT names a JSON-lines file the figures are appended to (rendered into
// docs/reliability.md by the runner).
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import type { LoadVerdict } from './load.js';

export const fullRun = process.env.GRAYBRIDGE_FAULTS === 'full';

export const scale = {
  /** GELF endpoint, apiserver, Kafka for the SDK: how long each is away. */
  outageMillis: fullRun ? 60_000 : 8_000,
  /** SIGKILLs of a forwarder in a row. */
  kills: fullRun ? 20 : 3,
  /** Slow endpoint and resetting connections: how long each lasts. */
  degradedMillis: fullRun ? 30_000 : 6_000,
  /** Per test: twenty kills with a session timeout each take minutes. */
  testTimeoutMillis: fullRun ? 1_200_000 : 240_000,
};

export interface FaultResult {
  readonly fault: string;
  readonly verdict: LoadVerdict;
  /** The bound duplicates must stay within, and what it is. */
  readonly window: { readonly records: number; readonly what: string };
  /** From the end of the fault until every record had arrived (s). */
  readonly recoverySeconds: number;
  readonly notes?: string;
}

/** Says the figures in the test's output and, in a full run, appends them to the report file. */
export function recordFault(t: TestContext, result: FaultResult): void {
  const { verdict } = result;
  t.diagnostic(
    `${result.fault}: ${verdict.expected} expected, ${verdict.delivered} delivered, ${verdict.deadLettered} dead-lettered, ` +
      `lost ${verdict.lost}, ${verdict.redelivered} redelivered (window ${result.window.records}: ${result.window.what}), ` +
      `${verdict.reproduced} produced twice, recovered in ${result.recoverySeconds.toFixed(1)} s` +
      (result.notes ? `; ${result.notes}` : ''),
  );
  const file = process.env.GRAYBRIDGE_FAULTS_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ ...result, full: fullRun })}\n`);
}

const begin = '<!-- faults:results -->';
const end = '<!-- /faults:results -->';

/** Replaces the results section of docs/reliability.md with a table of the recorded figures. */
export function renderResults(resultsFile: string, docFile: string, context: string): void {
  const rows = readFileSync(resultsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FaultResult);
  const table = [
    '| fault | records | delivered | dead-lettered | lost | duplicates (same `_event_id`) | window | produced twice | recovery |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(({ fault, verdict: v, window, recoverySeconds }) =>
      [
        fault,
        v.expected,
        v.delivered,
        v.deadLettered,
        `**${v.lost}**`,
        v.redelivered,
        `${window.records} (${window.what})`,
        v.reproduced,
        `${recoverySeconds.toFixed(1)} s`,
      ].join(' | '),
    ),
  ].map((line) => (line.startsWith('| ') ? line : `| ${line} |`));
  const notes = rows.filter((r) => r.notes).map((r) => `- ${r.fault}: ${r.notes}`);
  const section = [begin, context, '', ...table, '', ...notes, end].join('\n');
  const doc = readFileSync(docFile, 'utf8');
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`${docFile} has no ${begin} … ${end} section`);
  writeFileSync(docFile, doc.slice(0, from) + section + doc.slice(to + end.length));
}
