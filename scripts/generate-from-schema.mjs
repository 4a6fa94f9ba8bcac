// Everything generated from the forwarder's config schema, rewritten in place:
//   docs/configuration.md              the option reference (between its markers)
//   charts/graybridge/values.schema.json  the Helm chart's values schema (config + chart settings)
// `npm run generate` (after `tsc -b`); unit tests fail while either is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { chartValuesSchema, configReferenceMarkdown } from '@graybridge/forwarder/config';

const docs = new URL('../docs/configuration.md', import.meta.url);
const text = readFileSync(docs, 'utf8');
const marked = /(<!-- config:reference -->)[\s\S]*?(<!-- \/config:reference -->)/;
if (!marked.test(text)) throw new Error('docs/configuration.md has no <!-- config:reference --> markers');
writeFileSync(
  docs,
  text.replace(marked, (_, open, close) => `${open}\n${configReferenceMarkdown()}\n${close}`),
);
console.log('docs/configuration.md: reference updated');

const schema = new URL('../charts/graybridge/values.schema.json', import.meta.url);
writeFileSync(schema, `${JSON.stringify(chartValuesSchema(), null, 2)}\n`);
console.log('charts/graybridge/values.schema.json: written');
