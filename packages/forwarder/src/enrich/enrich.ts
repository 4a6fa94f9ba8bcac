import type { PodLookup, PodQuery } from '@graybridge/enricher';
import { sanitizeKey } from '../encode/gelf.js';
import type { DecodedRecord, RecordIdentity } from '../record.js';

/** The enrich stage's output: the record plus its Kubernetes fields, named as docs/gelf-fields.md says. */
export interface EnrichedRecord {
  readonly record: DecodedRecord;
  /** `k8s_*` fields, flat, ready to send. */
  readonly kubernetes: Readonly<Record<string, string>>;
}

/** Why a record is intentionally not sent: counted, never silent. */
export type ExclusionReason = 'pod_excluded' | 'container_excluded';

export type EnrichOutcome =
  | { readonly kind: 'keep'; readonly enriched: EnrichedRecord }
  | { readonly kind: 'exclude'; readonly reason: ExclusionReason };

/** Whether a record says which pod it comes from (else there is nothing to look up). */
export function namesPod(identity: RecordIdentity): boolean {
  return identity.pod !== undefined || identity.podUid !== undefined || identity.podIp !== undefined;
}

/** A lookup's key: queries that are equal as data are one lookup. */
export function queryKey(query: PodQuery): string {
  return `${query.namespace ?? ''}\u0000${query.pod ?? ''}\u0000${query.podUid ?? ''}\u0000${query.podIp ?? ''}`;
}

/** What the enricher says of one identity: its `k8s_*` fields, or why its records are not sent. */
export type KubernetesOutcome =
  | { readonly kind: 'keep'; readonly kubernetes: Readonly<Record<string, string>> }
  | { readonly kind: 'exclude'; readonly reason: ExclusionReason };

/**
 * Pure: a record identity joined with what the enricher knows of its pod. A pod not known (yet)
 * gives `k8s_unresolved` rather than waiting; a pod or container excluded by its `graybridge.io/`
 * annotations gives an exclusion for the pipeline to count. Records with equal identities get
 * equal answers: a batch asks once per identity (`batchEnricher`).
 */
export function kubernetesFields(
  identity: RecordIdentity,
  lookup: (query: PodQuery) => PodLookup | undefined,
): KubernetesOutcome {
  const kubernetes: Record<string, string> = {};
  const set = (key: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') kubernetes[key] = value;
  };
  set('k8s_pod', identity.pod);
  set('k8s_namespace', identity.namespace);
  set('k8s_node', identity.node);
  set('k8s_pod_uid', identity.podUid);
  set('k8s_pod_ip', identity.podIp);
  set('k8s_container', identity.container);

  const named = namesPod(identity);
  const found = named ? lookup(identity) : undefined;
  if (found === undefined) {
    if (named) kubernetes.k8s_unresolved = 'true';
    return { kind: 'keep', kubernetes };
  }

  const pod = found.pod;
  if (pod.controls.exclude) return { kind: 'exclude', reason: 'pod_excluded' };
  const container = identity.container ?? (pod.containers.length === 1 ? pod.containers[0]?.name : undefined);
  if (container !== undefined && pod.controls.excludeContainers.includes(container)) {
    return { kind: 'exclude', reason: 'container_excluded' };
  }
  set('k8s_pod', pod.name);
  set('k8s_namespace', pod.namespace);
  set('k8s_node', pod.node);
  set('k8s_pod_uid', pod.uid);
  set('k8s_pod_ip', pod.podIp);
  set('k8s_container', container);
  set('k8s_container_image', pod.containers.find((c) => c.name === container)?.image);
  set('k8s_owner_kind', found.owner?.kind);
  set('k8s_owner_name', found.owner?.name);
  for (const [key, value] of Object.entries(pod.labels)) set(`k8s_label_${sanitizeKey(key)}`, value);
  for (const [key, value] of Object.entries(pod.annotations)) set(`k8s_annotation_${sanitizeKey(key)}`, value);
  for (const [key, value] of Object.entries(found.namespaceLabels ?? {}))
    set(`k8s_namespace_label_${sanitizeKey(key)}`, value);
  if (found.deleted) kubernetes.k8s_deleted = 'true';
  return { kind: 'keep', kubernetes };
}

/** Pure: `kubernetesFields` for one record. */
export function enrichRecord(record: DecodedRecord, lookup: (query: PodQuery) => PodLookup | undefined): EnrichOutcome {
  const outcome = kubernetesFields(record.identity, lookup);
  return outcome.kind === 'exclude' ? outcome : { kind: 'keep', enriched: { record, kubernetes: outcome.kubernetes } };
}

/**
 * `enrichRecord` for the records of one batch, asking `kubernetesFields` once per distinct
 * identity: records of one pod share one `kubernetes` object (and so one encoding of it). One per
 * batch, so that what the enricher learns between batches is seen.
 */
export function batchEnricher(
  lookup: (query: PodQuery) => PodLookup | undefined,
): (record: DecodedRecord) => EnrichOutcome {
  const answers = new Map<string, KubernetesOutcome>();
  return (record) => {
    const { node, container } = record.identity;
    // The query, plus what the record may say that the pod does not: its node and container.
    const key = `${queryKey(record.identity)}\u0000${node ?? ''}\u0000${container ?? ''}`;
    let outcome = answers.get(key);
    if (outcome === undefined) {
      outcome = kubernetesFields(record.identity, lookup);
      answers.set(key, outcome);
    }
    return outcome.kind === 'exclude'
      ? outcome
      : { kind: 'keep', enriched: { record, kubernetes: outcome.kubernetes } };
  };
}
