import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnricherError } from '../src/errors.js';
import { resolveEnricherOptions, type EnricherOptions } from '../src/options.js';
import { tokenKubeConfig as kubeconfig } from './kubeconfig.js';

describe('resolveEnricherOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveEnricherOptions({ kubeconfig: kubeconfig() }, {});
    assert.equal(resolved.scope, 'cluster');
    assert.equal(resolved.deletedPodRetentionMillis, 60_000);
    assert.deepEqual(resolved.annotations.include, []);
    assert.ok(resolved.labels.exclude.includes('pod-template-hash'));
    assert.deepEqual(resolved.missFetch, {
      enabled: true,
      ratePerSecond: 5,
      timeoutMillis: 2000,
      negativeTtlMillis: 5000,
    });
    assert.equal(resolved.watch.stallMillis, 600_000);
  });

  it('takes the node name from NODE_NAME for node scope', () => {
    assert.equal(
      resolveEnricherOptions({ kubeconfig: kubeconfig(), scope: 'node' }, { NODE_NAME: 'n1' }).nodeName,
      'n1',
    );
  });

  it('rejects each bad option naming the field', () => {
    const cases: [EnricherOptions, string][] = [
      [{ scope: 'region' as never }, 'invalid option scope: expected "cluster" or "node", got "region"'],
      [
        { scope: 'node' },
        'invalid option nodeName: expected a node name (or env NODE_NAME) when scope is "node", got undefined',
      ],
      [
        { labels: { include: 'app' as never } },
        'invalid option labels.include: expected a list of keys or "prefix*" patterns, got "app"',
      ],
      [{ deletedPodRetentionMillis: -5 }, 'invalid option deletedPodRetentionMillis: expected an integer ≥ 0, got -5'],
      [{ missFetch: { ratePerSecond: 0 } }, 'invalid option missFetch.ratePerSecond: expected an integer ≥ 1, got 0'],
      [{ watch: { stallMillis: 10 } }, 'invalid option watch.stallMillis: expected an integer ≥ 1000, got 10'],
      [
        { watch: { backoffInitialMillis: 500, backoffMaxMillis: 100 } },
        'invalid option watch.backoffMaxMillis: expected at least watch.backoffInitialMillis (500), got 100',
      ],
      [{ resolveOwners: 'yes' as never }, 'invalid option resolveOwners: expected true or false, got "yes"'],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => resolveEnricherOptions({ kubeconfig: kubeconfig(), ...options }, {}),
        (error: unknown) =>
          error instanceof EnricherError && error.code === 'GB_ENRICHER_INVALID_OPTION' && error.message === message,
        message,
      );
    }
  });

  it('names an unreadable kubeconfig file', () => {
    assert.throws(
      () => resolveEnricherOptions({ kubeconfig: '/nonexistent/kubeconfig' }, {}),
      (error: unknown) =>
        error instanceof EnricherError &&
        error.message.startsWith(
          'invalid option kubeconfig: expected a readable kubeconfig file, got "/nonexistent/kubeconfig (',
        ),
    );
  });
});
