// A node:test reporter that writes one JSON line of counts, so run-tests can add up several runs.
import type { TestEvent } from 'node:test/reporters';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}

export default async function* summaryReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const data = event.data;
    // Suites report too; only leaf tests count, as in the spec reporter's totals.
    if (data.details.type === 'suite') continue;
    if (event.type === 'test:fail') {
      counts.failed += 1;
      counts.failures.push(`${data.file ?? '?'}: ${data.name}`);
    } else if (data.skip !== undefined || data.todo !== undefined) {
      counts.skipped += 1;
    } else {
      counts.passed += 1;
    }
  }
  yield JSON.stringify(counts) + '\n';
}
