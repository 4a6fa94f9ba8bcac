import { KubeConfig } from '@kubernetes/client-node';

/** A client-node KubeConfig for https://127.0.0.1:6443 with token `t`, as an application would hand it over. */
export function tokenKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return config;
}
