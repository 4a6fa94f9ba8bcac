/** Prefix of the annotations through which a pod controls its own shipping. */
export const controlAnnotationPrefix = 'graybridge.io/';
export const excludeAnnotation = 'graybridge.io/exclude';
export const excludeContainersAnnotation = 'graybridge.io/exclude-containers';

export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
}

export interface ContainerInfo {
  readonly name: string;
  readonly image: string;
}

/** What the enricher keeps per pod: only what it attaches (memory stays small). */
export interface PodMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly node?: string;
  readonly podIp?: string;
  readonly hostNetwork: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** Only allowlisted annotations. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerInfo[];
  /** The direct controller from ownerReferences (e.g. a ReplicaSet). */
  readonly controller?: OwnerRef;
  readonly controls: PodControls;
  readonly resourceVersion: string;
}

/** The IP that names this pod alone: hostNetwork pods share their node's, which names them no better than the node. */
export function ownIp(pod: PodMetadata): string | undefined {
  return pod.hostNetwork ? undefined : pod.podIp;
}

/** What a pod asks of the forwarder through its `graybridge.io/` annotations. */
export interface PodControls {
  readonly exclude: boolean;
  readonly excludeContainers: readonly string[];
}

export interface NamespaceMetadata {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Key filter: exact names or `prefix*` patterns. */
export interface KeyFilter {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

function matches(patterns: readonly string[], key: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? key.startsWith(p.slice(0, -1)) : key === p));
}

/**
 * One copy of each repeated string (image names, label keys and values, node names): thousands of
 * pods share a few hundred of them, and JSON.parse makes a new copy for every pod.
 */
export class StringPool {
  private readonly strings = new Map<string, string>();

  intern(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    // Bounded: a pool that only grows would leak with churning unique values.
    if (this.strings.size >= 100_000) this.strings.clear();
    this.strings.set(value, value);
    return value;
  }
}

const noPool = { intern: (value: string): string => value };

export function filterKeys(
  source: Readonly<Record<string, string>> | undefined,
  filter: KeyFilter,
  pool: Pick<StringPool, 'intern'> = noPool,
): Record<string, string> {
  const kept: Record<string, string> = {};
  if (source === undefined) return kept;
  for (const [key, value] of Object.entries(source)) {
    if (matches(filter.include, key) && !matches(filter.exclude, key)) kept[pool.intern(key)] = pool.intern(value);
  }
  return kept;
}

/** The subset of a Pod's JSON the enricher reads (watch events and lists carry plain JSON). */
export interface RawPod {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
  };
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    containers?: { name?: string; image?: string }[];
    initContainers?: { name?: string; image?: string }[];
  };
  status?: { podIP?: string };
}

export interface RawNamespace {
  metadata?: { name?: string; labels?: Record<string, string>; resourceVersion?: string };
}

const noControls: PodControls = Object.freeze({ exclude: false, excludeContainers: Object.freeze([]) });

export function podControls(annotations: Readonly<Record<string, string>> | undefined): PodControls {
  const exclude = annotations?.[excludeAnnotation]?.trim().toLowerCase() === 'true';
  const excludeContainers = (annotations?.[excludeContainersAnnotation] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  // Most pods set neither: they share one object.
  return exclude || excludeContainers.length > 0 ? { exclude, excludeContainers } : noControls;
}

/** Pod JSON → compact metadata, or undefined when the object lacks a name, namespace or uid. */
export function compactPod(
  raw: RawPod,
  labels: KeyFilter,
  annotations: KeyFilter,
  pool: Pick<StringPool, 'intern'> = noPool,
): PodMetadata | undefined {
  const meta = raw.metadata;
  if (meta?.name === undefined || meta.namespace === undefined || meta.uid === undefined) return undefined;
  const controller = meta.ownerReferences?.find((ref) => ref.controller === true) ?? meta.ownerReferences?.[0];
  const containers = [...(raw.spec?.containers ?? []), ...(raw.spec?.initContainers ?? [])]
    .filter((c): c is { name: string; image?: string } => c.name !== undefined)
    .map((c) => ({ name: pool.intern(c.name), image: pool.intern(c.image ?? '') }));
  return {
    name: meta.name,
    namespace: pool.intern(meta.namespace),
    uid: meta.uid,
    ...(raw.spec?.nodeName === undefined ? {} : { node: pool.intern(raw.spec.nodeName) }),
    ...(raw.status?.podIP === undefined || raw.status.podIP === '' ? {} : { podIp: raw.status.podIP }),
    hostNetwork: raw.spec?.hostNetwork === true,
    labels: filterKeys(meta.labels, labels, pool),
    annotations: filterKeys(meta.annotations, annotations, pool),
    containers,
    ...(controller?.kind === undefined || controller.name === undefined
      ? {}
      : { controller: { kind: pool.intern(controller.kind), name: pool.intern(controller.name) } }),
    controls: podControls(meta.annotations),
    resourceVersion: meta.resourceVersion ?? '',
  };
}

export function compactNamespace(raw: RawNamespace, labels: KeyFilter): NamespaceMetadata | undefined {
  const name = raw.metadata?.name;
  if (name === undefined) return undefined;
  return { name, labels: filterKeys(raw.metadata?.labels, labels) };
}
