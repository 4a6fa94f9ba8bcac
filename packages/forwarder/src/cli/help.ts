import { configLeaves } from '../config/load.js';

/** The option list of `forward`, `doctor` and `config`, generated from the schema. */
export function optionsHelp(command: string): string {
  const lines = configLeaves().map(({ field, env, flag }) => {
    const fallback =
      field.default === undefined
        ? 'required' in field
          ? ' (required)'
          : ''
        : ` (default ${JSON.stringify(field.default)})`;
    return `  --${flag}\n      ${env}: ${field.doc}${fallback}`;
  });
  const extra =
    command === 'doctor'
      ? '\n  --send-test-message\n      also send one GELF message through the configured sink\n'
      : '';
  return `usage: graybridge ${command} [--config FILE] [options]\n\noptions (flag, then env variable):\n  --config FILE\n      GRAYBRIDGE_CONFIG: YAML or JSON file with the options below as nested keys\n${extra}${lines.join('\n')}`;
}
