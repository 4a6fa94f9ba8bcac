import { AuthorizationV1Api, VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { EnricherError, EnricherErrorCodes } from './errors.js';
import { kubeconfigFrom } from './options.js';
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
  const config = kubeconfigFrom(options.kubeconfig);
  const server = config.getCurrentCluster()?.server ?? '(no cluster)';
  let version: string;
  try {
    version = (await config.makeApiClient(VersionApi).getCode()).gitVersion;
  } catch (error) {
    throw new EnricherError(
      EnricherErrorCodes.apiUnreachable,
      `GET /version on ${server} failed: ${(error as Error).message}`,
      {
        retriable: true,
        cause: error,
      },
    );
  }
  const authorization = config.makeApiClient(AuthorizationV1Api);
  const missing: string[] = [];
  const rules = options.resolveOwners === false ? enricherClusterRoleRules.slice(0, 1) : enricherClusterRoleRules;
  for (const rule of rules) {
    for (const resource of rule.resources) {
      for (const verb of rule.verbs) {
        const review = await authorization.createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { group: rule.apiGroups[0], resource, verb } } },
        });
        if (review.status?.allowed !== true) missing.push(`${verb} ${resource}`);
      }
    }
  }
  return { server, version, missing };
}
