export { createEnricher, type Enricher, type EnricherStats, type SharedReaderStats } from './enricher.js';
export { createSharedEnricher, type SharedReaderOptions } from './shared/reader.js';
export {
  startEnricherPublisher,
  type EnricherPublisher,
  type PublisherOptions,
  type PublisherStats,
} from './shared/publisher.js';
export { defaultKeyPrefix as defaultSharedKeyPrefix } from './shared/layout.js';
export type { EnricherOptions, WatchScope } from './options.js';
export { defaultExcludedLabels } from './options.js';
export type { PodLookup, PodQuery } from './pod-cache.js';
export type { PodMetadata, PodControls, OwnerRef, ContainerInfo, NamespaceMetadata } from './metadata.js';
export { controlAnnotationPrefix, excludeAnnotation, excludeContainersAnnotation } from './metadata.js';
export type { WatchStats, WatchState } from './resource-watch.js';
export type { FetchStats } from './pod-fetcher.js';
export type { OwnerStats } from './owner.js';
export { EnricherError, EnricherErrorCodes, invalidOption, type EnricherErrorCode } from './errors.js';
export { enricherClusterRoleRules } from './rbac.js';
export { checkApiAccess, type ApiAccessReport } from './access.js';
