import { stringify } from 'yaml';
import { loadConfig, redactedConfig } from '../config/load.js';
import { configJsonSchema } from '../config/reference.js';

/** `graybridge config`: the effective config (secrets hidden) and where non-default values came from. */
export function configCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'schema') {
    console.log(JSON.stringify(configJsonSchema(), null, 2));
    return Promise.resolve(0);
  }
  const { config, sources, file } = loadConfig({ argv });
  const set = Object.entries(sources).filter(([, source]) => source !== 'default');
  console.log(`# file: ${file ?? '(none)'}`);
  for (const [path, source] of set) console.log(`# ${path}: from ${source}`);
  console.log(stringify(redactedConfig(config)).trimEnd());
  return Promise.resolve(0);
}
