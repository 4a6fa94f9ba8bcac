import type { KubeConfig } from '@kubernetes/client-node';
import { clusterAccessFrom } from './cluster-access.js';
import { KubeClient } from './kube-client.js';
import { enricherClusterRoleRules } from './rbac.js';

export interface ApiAccessReport {
  readonly server: string;
  /** e.g. `v1.36.3` */
  readonly version: string;
  /** Permissions the enricher needs and this identity lacks, as `verb resource`: empty when all is well. */
  readonly missing: readonly string[];
}

/**
 * What `graybridge doctor` asks the API server: can it be reached, which version, and may this
 * identity do everything in `enricherClusterRoleRules` (one SelfSubjectAccessReview per verb and
 * resource, so the report names exactly what the ClusterRole lacks).
 */
export async function checkApiAccess(
  options: {
    readonly kubeconfig?: KubeConfig | string;
    /** Whether replicasets and jobs are needed too (the enricher's `resolveOwners`). @defaultValue true */
    readonly resolveOwners?: boolean;
  } = {},
): Promise<ApiAccessReport> {
  const client = new KubeClient(clusterAccessFrom(options.kubeconfig));
  const timeoutMillis = 10_000;
  try {
    const { gitVersion } = await client.getJson<{ gitVersion: string }>('/version', {}, timeoutMillis);
    const missing: string[] = [];
    const rules = options.resolveOwners === false ? enricherClusterRoleRules.slice(0, 1) : enricherClusterRoleRules;
    for (const rule of rules) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) {
          const review = await client.requestJson<{ status?: { allowed?: boolean } }>(
            'POST',
            '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
            {},
            {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: { group: rule.apiGroups[0], resource, verb } },
            },
            timeoutMillis,
          );
          if (review.status?.allowed !== true) missing.push(`${verb} ${resource}`);
        }
      }
    }
    return { server: client.server, version: gitVersion, missing };
  } finally {
    client.close();
  }
}
