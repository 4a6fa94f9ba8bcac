export { forwarderConfigSchema, type ForwarderConfig, type Field, type Section, type ConfigOf } from './schema.js';
export {
  loadConfig,
  configLeaves,
  redactedConfig,
  type ConfigInputs,
  type ConfigLeaf,
  type LoadedConfig,
  type ValueSource,
} from './load.js';
export { configJsonSchema, configReferenceMarkdown, type JsonSchemaOptions } from './reference.js';
export { chartValuesSchema } from './chart.js';
