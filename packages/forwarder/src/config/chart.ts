import { configJsonSchema } from './reference.js';

type JsonSchema = Readonly<Record<string, unknown>>;

const object = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length === 0 ? {} : { required }),
});
const text: JsonSchema = { type: 'string' };
const nonEmpty: JsonSchema = { type: 'string', minLength: 1 };
const map: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };
const anyObject: JsonSchema = { type: 'object' };
const quantity: JsonSchema = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'number', exclusiveMinimum: 0 },
  ],
};
const resources: JsonSchema = object({ cpu: quantity, memory: quantity }, ['cpu', 'memory']);
/** Node's command-line flags, in front of the entrypoint: any V8 flag (NODE_OPTIONS takes a few). */
const nodeArgs = (example: string): JsonSchema => ({
  type: 'array',
  items: { type: 'string', pattern: '^--[a-z0-9_-]+(=.+)?$' },
  description: `Node and V8 flags for the container's node command, e.g. ${example}.`,
});

/**
 * The Helm chart's values.schema.json: the chart's own settings, and under `config` the
 * forwarder's config schema itself (secrets left out: they come from Secrets via secretEnv or
 * secretMounts, never from values). `helm install` checks values against it before rendering.
 */
export function chartValuesSchema(): JsonSchema {
  const config: Record<string, unknown> = { ...configJsonSchema({ omitSecrets: true }) };
  delete config.$schema;
  delete config.title;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'graybridge Helm chart values',
    type: 'object',
    additionalProperties: false,
    required: ['config', 'resources'],
    properties: {
      global: anyObject,
      kind: { enum: ['DaemonSet', 'Deployment'], description: 'One forwarder per node, or a fixed number.' },
      replicas: { type: 'integer', minimum: 1 },
      image: object({ repository: nonEmpty, tag: text, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } }, [
        'repository',
      ]),
      imagePullSecrets: { type: 'array', items: anyObject },
      serviceAccount: object({ create: { type: 'boolean' }, name: text, annotations: map }),
      rbac: object({ create: { type: 'boolean' } }),
      config: {
        ...config,
        description: "The forwarder's config (docs/configuration.md); secrets via secretEnv/secretMounts.",
      },
      secretEnv: {
        type: 'array',
        items: object({ env: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' }, secretName: nonEmpty, key: nonEmpty }, [
          'env',
          'secretName',
          'key',
        ]),
      },
      secretMounts: {
        type: 'array',
        items: object({ name: nonEmpty, secretName: nonEmpty, mountPath: { type: 'string', pattern: '^/' } }, [
          'name',
          'secretName',
          'mountPath',
        ]),
      },
      extraEnv: { type: 'array', items: anyObject },
      resources: {
        ...object({ requests: resources, limits: resources }, ['requests', 'limits']),
        description: 'Requests and limits, both set (docs/deploy.md sizes them from the benchmarks).',
      },
      nodeArgs: nodeArgs('--max-old-space-size=512'),
      terminationGracePeriodSeconds: { type: 'integer', minimum: 10 },
      updateStrategy: anyObject,
      podAnnotations: map,
      podLabels: map,
      nodeSelector: map,
      tolerations: { type: 'array', items: anyObject },
      affinity: anyObject,
      priorityClassName: text,
      podSecurityContext: anyObject,
      securityContext: anyObject,
      livenessProbe: anyObject,
      readinessProbe: anyObject,
      service: object({ enabled: { type: 'boolean' } }),
      serviceMonitor: object({ enabled: { type: 'boolean' }, interval: nonEmpty, labels: map }),
      podDisruptionBudget: object({ enabled: { type: 'boolean' }, maxUnavailable: { type: ['integer', 'string'] } }),
      dashboards: object({ enabled: { type: 'boolean' }, labels: map }),
      sharedEnricher: {
        ...object({
          enabled: { type: 'boolean' },
          resources: object({ requests: resources, limits: resources }, ['requests', 'limits']),
          nodeArgs: nodeArgs('--max-old-space-size=384'),
          nodeSelector: map,
          tolerations: { type: 'array', items: anyObject },
        }),
        description:
          'Shared mode: one `graybridge enricher` Deployment watches the cluster and publishes to Redis; forwarders read it there.',
      },
    },
  };
}
