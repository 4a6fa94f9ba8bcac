import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** test/rig/install, seen from the compiled test/rig/dist/*.js. */
export const installDir = fileURLToPath(new URL('../install/', import.meta.url));

export function installScript(name: 'kafka' | 'kube' | 'helm' | 'debian' | 'oracle'): string {
  return join(installDir, `${name}.sh`);
}
