import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultRecordKey,
  detectPodIdentity,
  detectServiceIdentity,
  identityFields,
  parseResourceAttributes,
  serviceAccountNamespaceFile,
} from '../src/identity.js';

const noFiles = (): undefined => undefined;

describe('detectPodIdentity', () => {
  it('reads the Downward API POD_* family', () => {
    const env = {
      POD_NAME: 'web-1',
      POD_NAMESPACE: 'shop',
      NODE_NAME: 'n1',
      POD_UID: 'u-1',
      POD_IP: '10.1.2.3',
      CONTAINER_NAME: 'app',
      HOSTNAME: 'ignored',
    };
    assert.deepEqual(detectPodIdentity(env, noFiles), {
      pod: 'web-1',
      namespace: 'shop',
      node: 'n1',
      podUid: 'u-1',
      podIp: '10.1.2.3',
      container: 'app',
    });
  });

  it('reads the MY_POD_* family of the Kubernetes docs', () => {
    const env = { MY_POD_NAME: 'web-2', MY_POD_NAMESPACE: 'shop', MY_NODE_NAME: 'n2', MY_POD_IP: '10.0.0.9' };
    assert.deepEqual(detectPodIdentity(env, noFiles), {
      pod: 'web-2',
      namespace: 'shop',
      node: 'n2',
      podIp: '10.0.0.9',
    });
  });

  it('reads the OTel operator variables and OTEL_RESOURCE_ATTRIBUTES', () => {
    const env = {
      OTEL_RESOURCE_ATTRIBUTES_POD_NAME: 'web-3',
      OTEL_RESOURCE_ATTRIBUTES_POD_UID: 'u-3',
      OTEL_RESOURCE_ATTRIBUTES_NODE_NAME: 'n3',
      OTEL_RESOURCE_ATTRIBUTES: 'k8s.namespace.name=payments,k8s.container.name=api,service.name=checkout',
    };
    assert.deepEqual(detectPodIdentity(env, noFiles), {
      pod: 'web-3',
      namespace: 'payments',
      node: 'n3',
      podUid: 'u-3',
      container: 'api',
    });
  });

  it('prefers GRAYBRIDGE_* over POD_* over MY_* over OTel, and ignores blanks', () => {
    const env = {
      GRAYBRIDGE_POD_NAME: 'a',
      POD_NAME: 'b',
      MY_POD_NAME: 'c',
      POD_NAMESPACE: '  ',
      MY_POD_NAMESPACE: 'ns',
    };
    assert.deepEqual(detectPodIdentity(env, noFiles), { pod: 'a', namespace: 'ns' });
  });

  it('falls back to HOSTNAME and the service-account namespace file', () => {
    const files = (file: string) => (file === serviceAccountNamespaceFile ? 'from-file' : undefined);
    assert.deepEqual(detectPodIdentity({ HOSTNAME: 'web-4' }, files), { pod: 'web-4', namespace: 'from-file' });
  });

  it('knows nothing outside Kubernetes without env', () => {
    assert.deepEqual(detectPodIdentity({}, noFiles), {});
  });
});

describe('parseResourceAttributes', () => {
  it('decodes percent-encoding and skips malformed pairs', () => {
    const parsed = parseResourceAttributes('a=1,broken,=x,b=hello%20world, c = 3 ,d=%E0%A4%A');
    assert.deepEqual(
      [...parsed],
      [
        ['a', '1'],
        ['b', 'hello world'],
        ['c', '3'],
        ['d', '%E0%A4%A'],
      ],
    );
  });
});

describe('detectServiceIdentity', () => {
  it('takes options first, then GRAYBRIDGE_*, then OTel names', () => {
    const env = {
      GRAYBRIDGE_SERVICE: 'env-svc',
      OTEL_SERVICE_NAME: 'otel-svc',
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=9,deployment.environment.name=staging',
    };
    assert.deepEqual(detectServiceIdentity({ service: 'opt-svc' }, env), {
      service: 'opt-svc',
      version: '9',
      env: 'staging',
    });
    assert.deepEqual(detectServiceIdentity({}, env), { service: 'env-svc', version: '9', env: 'staging' });
    assert.deepEqual(detectServiceIdentity({}, { OTEL_SERVICE_NAME: 'otel-svc' }), { service: 'otel-svc' });
  });
});

describe('identityFields and defaultRecordKey', () => {
  it('nests pod identity under k8s in snake_case, service fields at the top', () => {
    assert.deepEqual(
      identityFields({ pod: 'p', namespace: 'n', podUid: 'u', podIp: 'i' }, { service: 's', env: 'prod' }),
      {
        service: 's',
        env: 'prod',
        k8s: { pod: 'p', namespace: 'n', pod_uid: 'u', pod_ip: 'i' },
      },
    );
    assert.deepEqual(identityFields({}, {}), {});
  });

  it('keys records by namespace/pod, or pod alone, or not at all', () => {
    assert.equal(defaultRecordKey({ pod: 'p', namespace: 'n' }), 'n/p');
    assert.equal(defaultRecordKey({ pod: 'p' }), 'p');
    assert.equal(defaultRecordKey({}), undefined);
  });
});
