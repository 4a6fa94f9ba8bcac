// The `graybridge` command line as an operator meets it: config errors, doctor against the real
// rig (and against what is wrong), gelf-receive printing what Graylog would index.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, useRig } from '@graybridge/rig';
import { startCountingReceiver } from '../fixtures/gelf.js';
import { createTopic } from '../fixtures/kafka.js';
import { graybridgeCli, runGraybridge, until } from '../fixtures/processes.js';
import { unboundServiceAccountKubeconfig } from '../fixtures/workload.js';

const rig = useRig(['kafka', 'kube']);

/** A row of the doctor's table: check, target, status, detail. */
function row(table: string, check: string, target?: string): { status: string; detail: string } | undefined {
  for (const line of table.split('\n')) {
    const match = /^(\S+(?: \S+)*?)\s{2,}(\S+)\s{2,}(ok|FAIL)\s{2,}(.*)$/.exec(line);
    if (match?.[1] === check && (target === undefined || match[2] === target))
      return { status: match[3] ?? '', detail: match[4] ?? '' };
  }
  return undefined;
}

describe('graybridge CLI', () => {
  it('refuses a bad config with exit 2 and every problem named', async () => {
    const result = await runGraybridge(['forward', '--gelf-port', '70000'], { GRAYBRIDGE_KAFKA_BROKERS: 'kafka' });
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /invalid option gelf\.port \(flag --gelf-port\): expected an integer from 1 to 65535, got "70000"/,
    );
    const unknown = await runGraybridge(['deploy']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "deploy"/);
    const help = await runGraybridge(['forward', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--kafka-brokers\n\s+GRAYBRIDGE_KAFKA_BROKERS: Bootstrap brokers/);
  });

  it('doctor: every check ok against the rig, with what it found', async () => {
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const topic = await createTopic(brokers, 'doctor', 3);
    const gelf = await startCountingReceiver('tcp');
    try {
      const result = await runGraybridge(['doctor', '--send-test-message'], {
        GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
        GRAYBRIDGE_KAFKA_TOPICS: topic,
        GRAYBRIDGE_GELF_HOST: '127.0.0.1',
        GRAYBRIDGE_GELF_PORT: String(gelf.receiver.ports.tcp ?? 0),
        GRAYBRIDGE_KUBERNETES_KUBECONFIG: rig().kube?.kubeconfig ?? '',
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(row(result.stdout, 'kafka')?.detail ?? '', /^1 broker\(s\), cluster /);
      assert.deepEqual(row(result.stdout, 'kafka topic', topic), { status: 'ok', detail: '3 partition(s)' });
      assert.equal(row(result.stdout, 'kafka group')?.detail, 'no members yet');
      assert.match(row(result.stdout, 'gelf')?.detail ?? '', /^connected in \d+ ms$/);
      assert.equal(row(result.stdout, 'gelf test message')?.status, 'ok');
      assert.match(row(result.stdout, 'kubernetes')?.detail ?? '', /^API server v1\.\d+\.\d+$/);
      assert.equal(row(result.stdout, 'kubernetes rbac')?.status, 'ok');
      assert.match(result.stdout, /all checks passed/);
      await until(() => gelf.messages.length === 1, 5000, 'the test message');
      assert.equal(gelf.messages[0]?.message.fields.graybridge_doctor, 'true');
    } finally {
      await gelf.close();
    }
  });

  it('doctor: names what is wrong — broker down, GELF port closed, missing RBAC — and exits 1', async () => {
    const kube = rig().kube;
    assert.ok(kube);
    const kubeconfig = await unboundServiceAccountKubeconfig(
      kube.kubeconfig,
      kube.server,
      kube.caFile,
      mkdtempSync(join(tmpdir(), 'doctor-')),
    );
    const closedPort = await freePort();
    const result = await runGraybridge(['doctor'], {
      GRAYBRIDGE_KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      GRAYBRIDGE_GELF_HOST: '127.0.0.1',
      GRAYBRIDGE_GELF_PORT: String(closedPort),
      GRAYBRIDGE_KUBERNETES_KUBECONFIG: kubeconfig,
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.equal(row(result.stdout, 'kafka')?.status, 'FAIL');
    assert.match(row(result.stdout, 'kafka')?.detail ?? '', /ECONNREFUSED|Connection error/);
    assert.match(row(result.stdout, 'gelf')?.detail ?? '', new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}`));
    assert.equal(row(result.stdout, 'kubernetes')?.status, 'ok');
    const rbac = row(result.stdout, 'kubernetes rbac');
    assert.equal(rbac?.status, 'FAIL');
    assert.match(
      rbac.detail,
      /missing: get pods, list pods, watch pods, get namespaces, list namespaces, watch namespaces, get replicasets, get jobs/,
    );
    assert.match(result.stdout, /3 check\(s\) failed/);
  });

  it('gelf-receive prints what Graylog would index, warns about dropped fields and rejects like Graylog', async () => {
    const child = spawn(
      process.execPath,
      [graybridgeCli, 'gelf-receive', '--tcp', '0', '--udp', '0', '--http', '0', '--host', '127.0.0.1', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await until(() => stderr.includes('listening on'), 10_000, 'gelf-receive listening');
      const port = (transport: string) => Number(new RegExp(`${transport} 127\\.0\\.0\\.1:(\\d+)`).exec(stderr)?.[1]);
      const tcp = connect({ host: '127.0.0.1', port: port('tcp') });
      await once(tcp, 'connect');
      tcp.end(JSON.stringify({ version: '1.1', host: 'a', short_message: 'over tcp', _flag: true }) + '\0');
      const udp = createSocket('udp4');
      udp.send(JSON.stringify({ version: '1.1', host: 'b', short_message: 'over udp' }), port('udp'), '127.0.0.1');
      const accepted = await fetch(`http://127.0.0.1:${port('http')}/gelf`, {
        method: 'POST',
        body: JSON.stringify({ version: '1.1', host: 'c', short_message: 'over http', _n: 1 }),
      });
      assert.equal(accepted.status, 202);
      await fetch(`http://127.0.0.1:${port('http')}/gelf`, {
        method: 'POST',
        body: JSON.stringify({ version: '1.1', host: 'd' }),
      });
      await until(
        () => stdout.split('\n').filter(Boolean).length === 3 && stderr.includes('rejected'),
        10_000,
        'three messages and a rejection',
      );
      udp.close();
      const lines = stdout
        .split('\n')
        .filter(Boolean)
        .map(
          (line) =>
            JSON.parse(line) as {
              transport: string;
              message: string;
              fields: Record<string, unknown>;
              droppedFields: string[];
            },
        );
      const byTransport = Object.fromEntries(lines.map((l) => [l.transport, l]));
      assert.equal(byTransport.tcp?.message, 'over tcp');
      assert.deepEqual(byTransport.tcp.droppedFields, ['_flag']);
      assert.equal(byTransport.udp?.message, 'over udp');
      assert.deepEqual(byTransport.http?.fields, { n: 1 });
      assert.match(stderr, /\[http\] rejected as Graylog would: .*short_message/);
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
      assert.match(stderr, /accepted \{"tcp":1,"udp":1,"http":1\}/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
