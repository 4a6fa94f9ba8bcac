import type { KubeConfig } from '@kubernetes/client-node';
import { clusterAccessFrom, type ClusterAccess } from './cluster-access.js';
import { invalidOption } from './errors.js';
import type { KeyFilter } from './metadata.js';

export type WatchScope = 'cluster' | 'node';

export interface EnricherOptions {
  /** A KubeConfig, or a kubeconfig file path. @defaultValue KUBECONFIG, ~/.kube/config, then in-cluster */
  readonly kubeconfig?: KubeConfig | string;
  /**
   * `cluster` watches every pod; `node` only pods of `nodeName` (spec.nodeName field selector) —
   * right only when the records a process handles come from its own node. @defaultValue "cluster"
   */
  readonly scope?: WatchScope;
  /** @defaultValue env NODE_NAME */
  readonly nodeName?: string;
  /** Pod and namespace labels to attach: exact keys or `prefix*`. @defaultValue include all, exclude hashes and uids */
  readonly labels?: { readonly include?: readonly string[]; readonly exclude?: readonly string[] };
  /** Pod annotations to attach (allowlist). @defaultValue none */
  readonly annotations?: { readonly include?: readonly string[] };
  /** Watch namespaces and attach their labels. @defaultValue true */
  readonly namespaceLabels?: boolean;
  /** Resolve ReplicaSet → Deployment and Job → CronJob (needs get on replicasets and jobs). @defaultValue true */
  readonly resolveOwners?: boolean;
  /** How long a deleted pod stays resolvable. @defaultValue 60000 */
  readonly deletedPodRetentionMillis?: number;
  /** GET fallback for pods the watch has not delivered yet. */
  readonly missFetch?: {
    /** @defaultValue true */
    readonly enabled?: boolean;
    /** @defaultValue 5 */
    readonly ratePerSecond?: number;
    /** @defaultValue 2000 */
    readonly timeoutMillis?: number;
    /** @defaultValue 5000 */
    readonly negativeTtlMillis?: number;
  };
  readonly watch?: {
    /**
     * Objects per list page. Small pages keep the parse peak, and so the heap V8 keeps, low: 100
     * gives ~130 MiB RSS after listing 10,000 pods where 500 gave ~170 (docs/benchmarks.md).
     * @defaultValue 100
     */
    readonly pageSize?: number;
    /** @defaultValue 30000 */
    readonly requestTimeoutMillis?: number;
    /** @defaultValue 600000 */
    readonly stallMillis?: number;
    /** @defaultValue 500 */
    readonly backoffInitialMillis?: number;
    /** @defaultValue 30000 */
    readonly backoffMaxMillis?: number;
  };
}

export interface ResolvedOptions {
  /** Where the API server is and how to authenticate to it. */
  readonly access: ClusterAccess;
  readonly scope: WatchScope;
  readonly nodeName: string | undefined;
  readonly labels: KeyFilter;
  readonly annotations: KeyFilter;
  readonly namespaceLabels: boolean;
  readonly resolveOwners: boolean;
  readonly deletedPodRetentionMillis: number;
  readonly missFetch: { enabled: boolean; ratePerSecond: number; timeoutMillis: number; negativeTtlMillis: number };
  readonly watch: {
    pageSize: number;
    requestTimeoutMillis: number;
    stallMillis: number;
    backoffInitialMillis: number;
    backoffMaxMillis: number;
  };
}

/** Labels that identify a revision or run, not a workload: noise in every log line. */
export const defaultExcludedLabels = [
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'apps.kubernetes.io/pod-index',
  // Every namespace carries its own name as a label: the namespace field says it already.
  'kubernetes.io/metadata.name',
] as const;

type Env = Readonly<Record<string, string | undefined>>;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function section(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw invalidOption(field, 'an object', value);
  return value;
}

export function integer(value: unknown, field: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw invalidOption(field, `an integer ≥ ${min}`, value);
  return value;
}

function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(field, 'true or false', value);
  return value;
}

function patterns(value: unknown, field: string, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((p) => typeof p === 'string' && p !== '')) {
    throw invalidOption(field, 'a list of keys or "prefix*" patterns', value);
  }
  return value as string[];
}

export function resolveEnricherOptions(options: EnricherOptions = {}, env: Env = process.env): ResolvedOptions {
  if (!isRecord(options)) throw invalidOption('options', 'an object', options);
  const scope: unknown = options.scope ?? 'cluster';
  if (scope !== 'cluster' && scope !== 'node') throw invalidOption('scope', '"cluster" or "node"', scope);
  const nodeName: unknown = options.nodeName ?? env.NODE_NAME;
  if (nodeName !== undefined && typeof nodeName !== 'string') throw invalidOption('nodeName', 'a string', nodeName);
  if (scope === 'node' && (nodeName === undefined || nodeName === '')) {
    throw invalidOption('nodeName', 'a node name (or env NODE_NAME) when scope is "node"', nodeName);
  }
  const labels = section(options.labels, 'labels');
  const annotations = section(options.annotations, 'annotations');
  const missFetch = section(options.missFetch, 'missFetch');
  const watch = section(options.watch, 'watch');
  const resolved: ResolvedOptions = {
    access: clusterAccessFrom(options.kubeconfig, env),
    scope,
    nodeName,
    labels: {
      include: patterns(labels.include, 'labels.include', ['*']),
      exclude: patterns(labels.exclude, 'labels.exclude', defaultExcludedLabels),
    },
    annotations: { include: patterns(annotations.include, 'annotations.include', []), exclude: [] },
    namespaceLabels: flag(options.namespaceLabels, 'namespaceLabels', true),
    resolveOwners: flag(options.resolveOwners, 'resolveOwners', true),
    deletedPodRetentionMillis: integer(options.deletedPodRetentionMillis, 'deletedPodRetentionMillis', 0, 60_000),
    missFetch: {
      enabled: flag(missFetch.enabled, 'missFetch.enabled', true),
      ratePerSecond: integer(missFetch.ratePerSecond, 'missFetch.ratePerSecond', 1, 5),
      timeoutMillis: integer(missFetch.timeoutMillis, 'missFetch.timeoutMillis', 1, 2000),
      negativeTtlMillis: integer(missFetch.negativeTtlMillis, 'missFetch.negativeTtlMillis', 0, 5000),
    },
    watch: {
      pageSize: integer(watch.pageSize, 'watch.pageSize', 1, 100),
      requestTimeoutMillis: integer(watch.requestTimeoutMillis, 'watch.requestTimeoutMillis', 1, 30_000),
      stallMillis: integer(watch.stallMillis, 'watch.stallMillis', 1000, 600_000),
      backoffInitialMillis: integer(watch.backoffInitialMillis, 'watch.backoffInitialMillis', 1, 500),
      backoffMaxMillis: integer(watch.backoffMaxMillis, 'watch.backoffMaxMillis', 1, 30_000),
    },
  };
  if (resolved.watch.backoffMaxMillis < resolved.watch.backoffInitialMillis) {
    throw invalidOption(
      'watch.backoffMaxMillis',
      `at least watch.backoffInitialMillis (${resolved.watch.backoffInitialMillis})`,
      resolved.watch.backoffMaxMillis,
    );
  }
  return resolved;
}
