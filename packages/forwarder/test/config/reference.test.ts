import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configLeaves } from '../../src/config/load.js';
import { chartValuesSchema } from '../../src/config/chart.js';
import { configJsonSchema, configReferenceMarkdown } from '../../src/config/reference.js';

const docs = new URL('../../../../../docs/configuration.md', import.meta.url);
const chartSchema = new URL('../../../../../charts/graybridge/values.schema.json', import.meta.url);

describe('config reference and JSON Schema', () => {
  it('docs/configuration.md carries the reference generated from the schema (npm run generate)', () => {
    const text = readFileSync(docs, 'utf8');
    const section = /<!-- config:reference -->\n([\s\S]*?)\n<!-- \/config:reference -->/.exec(text)?.[1] ?? '';
    const documented = section.split('\n');
    const generated = configReferenceMarkdown().split('\n');
    assert.deepEqual(
      {
        missing: generated.filter((line) => !documented.includes(line)),
        stale: documented.filter((line) => !generated.includes(line)),
      },
      { missing: [], stale: [] },
      'docs/configuration.md is out of date: run `npm run generate` and commit it',
    );
  });

  it('the JSON Schema has every option, with types, bounds, enums and defaults', () => {
    const schema = configJsonSchema() as { properties: Record<string, { properties: Record<string, unknown> }> };
    for (const { path, field } of configLeaves()) {
      const node = path
        .split('.')
        .reduce<unknown>(
          (at, key) => (at as { properties: Record<string, unknown> }).properties[key],
          schema,
        ) as Record<string, unknown>;
      assert.ok(node, path);
      assert.equal(
        node.type,
        { list: 'array', string: 'string', integer: 'integer', boolean: 'boolean' }[field.type],
        path,
      );
      assert.deepEqual(node.default, field.default, path);
    }
    const port = schema.properties.gelf?.properties.port as { minimum: number; maximum: number };
    assert.deepEqual([port.minimum, port.maximum], [1, 65535]);
    assert.deepEqual((schema as unknown as { required?: unknown }).required, undefined);
    assert.deepEqual((schema.properties.kafka as unknown as { required: string[] }).required, ['brokers']);
  });

  it('the chart’s values.schema.json is generated from the same schema, secrets left out (npm run generate)', () => {
    assert.deepEqual(
      JSON.parse(readFileSync(chartSchema, 'utf8')),
      chartValuesSchema(),
      'charts/graybridge/values.schema.json is out of date: run `npm run generate` and commit it',
    );
    const sasl = (chartValuesSchema() as { properties: { config: { properties: Record<string, unknown> } } }).properties
      .config.properties.kafka as { properties: { sasl: { properties: Record<string, unknown> } } };
    assert.deepEqual(Object.keys(sasl.properties.sasl.properties), ['mechanism', 'username', 'passwordFile']);
  });
});
