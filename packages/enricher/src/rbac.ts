/**
 * Everything the enricher asks of the API server: the ClusterRole rules the Helm chart ships,
 * and the ones the least-privilege test binds. Nothing else is requested.
 */
export const enricherClusterRoleRules = [
  // First: all that is needed without owner resolution.
  { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
  // Owner resolution: ReplicaSet → Deployment, Job → CronJob, one GET per controller.
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
] as const;
