import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const demo = fileURLToPath(new URL('../demo.js', import.meta.url));

describe('npm run demo', () => {
  it('runs the whole pipeline locally and every record arrives, enriched', { timeout: 600_000 }, async () => {
    const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [demo], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, text }));
    });
    assert.equal(output.code, 0, output.text);
    const row = (label: string): number => Number(new RegExp(`${label}\\s*│\\s*(\\d+)`).exec(output.text)?.[1] ?? NaN);
    const produced = row('records produced by the app');
    assert.ok(produced > 0);
    assert.equal(row('GELF messages received'), produced);
    assert.equal(row('with Deployment owner from the apiserver'), produced);
    assert.equal(row('fields Graylog would drop silently'), 0);
  });
});
