import { configLeaves } from './load.js';
import { forwarderConfigSchema, isField, type Field, type Section } from './schema.js';

type JsonSchema = Readonly<Record<string, unknown>>;

export interface JsonSchemaOptions {
  /**
   * Leave out secret options (passwords, the Redis URL, auth headers): where values are plain
   * text — Helm values, ConfigMaps — secrets must come from a Secret, so they are refused there.
   */
  readonly omitSecrets?: boolean;
}

function fieldSchema(field: Field): JsonSchema {
  const common = { description: field.doc, ...(field.default === undefined ? {} : { default: field.default }) };
  switch (field.type) {
    case 'string':
      return {
        type: 'string',
        minLength: 1,
        ...(field.choices === undefined ? {} : { enum: field.choices }),
        ...common,
      };
    case 'integer':
      return { type: 'integer', minimum: field.min, maximum: field.max, ...common };
    case 'boolean':
      return { type: 'boolean', ...common };
    case 'list':
      return {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        ...('required' in field ? { minItems: 1 } : {}),
        ...common,
      };
  }
}

function sectionSchema(section: Section, options: JsonSchemaOptions): JsonSchema {
  const kept = Object.entries(section).filter(
    ([, node]) => !(options.omitSecrets === true && isField(node) && node.secret === true),
  );
  const required = kept.filter(([, node]) => isField(node) && 'required' in node).map(([key]) => key);
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(
      kept.map(([key, node]) => [key, isField(node) ? fieldSchema(node) : sectionSchema(node, options)]),
    ),
    ...(required.length === 0 ? {} : { required }),
  };
}

/**
 * The config schema as JSON Schema (draft 2020-12): the Helm chart's values.schema.json embeds it
 * so `helm install` rejects a bad value before anything runs. Rules across fields (gelf.host for
 * tcp/udp, gelf.url for http) are expressed with if/then.
 */
export function configJsonSchema(options: JsonSchemaOptions = {}): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'graybridge forwarder config',
    ...sectionSchema(forwarderConfigSchema, options),
    allOf: [
      {
        if: {
          properties: { gelf: { properties: { transport: { const: 'http' } }, required: ['transport'] } },
          required: ['gelf'],
        },
        then: { required: ['gelf'], properties: { gelf: { required: ['url'] } } },
        else: { required: ['gelf'], properties: { gelf: { required: ['host'] } } },
      },
    ],
  };
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The reference table of docs/configuration.md: every option with its env variable, flag and default. */
export function configReferenceMarkdown(): string {
  const rows = configLeaves().map(({ path, field, env, flag }) => {
    const fallback =
      field.default === undefined
        ? 'required' in field
          ? '**required**'
          : '—'
        : `\`${Array.isArray(field.default) ? field.default.join(',') || '(none)' : String(field.default)}\``;
    const kind = field.type === 'string' && field.choices !== undefined ? field.choices.join(' \\| ') : field.type;
    return `| \`${path}\` | \`${env}\` | \`--${flag}\` | ${kind} | ${cell(fallback)} | ${cell(field.doc)} |`;
  });
  return [
    '| option (file) | env | flag | type | default | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
