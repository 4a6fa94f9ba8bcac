import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { useRig } from '@graybridge/rig';

const rig = useRig(['helm']);

describe('helm smoke (built from the Go module proxy)', () => {
  it('helm version runs from the cache and reports the pinned version', () => {
    const helm = rig().helm;
    assert.ok(helm);
    const version = execFileSync(helm.binary, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' });
    const pinned = /helm\/(v[^/]+)\/helm$/.exec(helm.binary)?.[1];
    assert.ok(pinned, `helm comes from the versioned cache, not PATH: ${helm.binary}`);
    assert.equal(version.trim(), pinned);
  });
});
