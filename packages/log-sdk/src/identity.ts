import { readFileSync } from 'node:fs';

/** Where this process runs, gathered once at start. Absent fields are unknown. */
export interface PodIdentity {
  readonly pod?: string;
  readonly namespace?: string;
  readonly node?: string;
  readonly podUid?: string;
  readonly podIp?: string;
  readonly container?: string;
}

/** What the app is: from options, else env. */
export interface ServiceIdentity {
  readonly service?: string;
  readonly version?: string;
  readonly env?: string;
}

export const serviceAccountNamespaceFile = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `OTEL_RESOURCE_ATTRIBUTES` (`k1=v1,k2=v2`, values percent-encoded per the OTel spec).
 * Malformed pairs are skipped: identity is best effort and must never stop an app from starting.
 */
export function parseResourceAttributes(value: string | undefined): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const pair of (value ?? '').split(',')) {
    const separator = pair.indexOf('=');
    if (separator <= 0) continue;
    const key = pair.slice(0, separator).trim();
    let attributeValue = pair.slice(separator + 1).trim();
    try {
      attributeValue = decodeURIComponent(attributeValue);
    } catch {
      // Keep the raw value.
    }
    if (key !== '' && attributeValue !== '') attributes.set(key, attributeValue);
  }
  return attributes;
}

function first(...candidates: (string | undefined)[]): string | undefined {
  for (const candidate of candidates) {
    const trimmed = candidate?.trim();
    if (trimmed !== undefined && trimmed !== '') return trimmed;
  }
  return undefined;
}

function readTrimmed(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Pod identity from the Downward API env families (`GRAYBRIDGE_*`, `POD_*`, `MY_POD_*`, the OTel
 * operator's `OTEL_RESOURCE_ATTRIBUTES_*` and `OTEL_RESOURCE_ATTRIBUTES`), then `HOSTNAME` for the
 * pod name and the service-account namespace file for the namespace.
 */
export function detectPodIdentity(
  env: Env = process.env,
  readFile: (file: string) => string | undefined = readTrimmed,
): PodIdentity {
  const otel = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  const pick = (name: string, otelKey: string): string | undefined =>
    first(
      env[`GRAYBRIDGE_${name}`],
      env[name],
      env[`MY_${name}`],
      env[`OTEL_RESOURCE_ATTRIBUTES_${name}`],
      otel.get(otelKey),
    );
  const identity: Record<string, string | undefined> = {
    pod: first(pick('POD_NAME', 'k8s.pod.name'), env.HOSTNAME),
    namespace: first(pick('POD_NAMESPACE', 'k8s.namespace.name'), readFile(serviceAccountNamespaceFile)),
    node: pick('NODE_NAME', 'k8s.node.name'),
    podUid: pick('POD_UID', 'k8s.pod.uid'),
    podIp: pick('POD_IP', 'k8s.pod.ip'),
    container: pick('CONTAINER_NAME', 'k8s.container.name'),
  };
  return withoutUndefined(identity);
}

/** service/version/env from options, else `GRAYBRIDGE_SERVICE*`/`GRAYBRIDGE_ENV`, else OTel's names. */
export function detectServiceIdentity(options: ServiceIdentity, env: Env = process.env): ServiceIdentity {
  const otel = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  return withoutUndefined({
    service: first(options.service, env.GRAYBRIDGE_SERVICE, env.OTEL_SERVICE_NAME, otel.get('service.name')),
    version: first(options.version, env.GRAYBRIDGE_SERVICE_VERSION, otel.get('service.version')),
    env: first(
      options.env,
      env.GRAYBRIDGE_ENV,
      otel.get('deployment.environment.name'),
      otel.get('deployment.environment'),
    ),
  }) as ServiceIdentity;
}

/**
 * The fields every record carries: `k8s` (pod identity, snake_case like the rest of the record)
 * and top-level `service`, `version`, `env`.
 */
export function identityFields(pod: PodIdentity, service: ServiceIdentity): Record<string, unknown> {
  const k8s = withoutUndefined({
    pod: pod.pod,
    namespace: pod.namespace,
    node: pod.node,
    pod_uid: pod.podUid,
    pod_ip: pod.podIp,
    container: pod.container,
  });
  return withoutUndefined({ ...service, k8s: Object.keys(k8s).length > 0 ? k8s : undefined });
}

/** The default Kafka key: one pod's records land in one partition, in order. */
export function defaultRecordKey(pod: PodIdentity): string | undefined {
  if (pod.namespace !== undefined && pod.pod !== undefined) return `${pod.namespace}/${pod.pod}`;
  return pod.pod;
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
