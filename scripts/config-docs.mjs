// Rewrites the generated reference in docs/configuration.md from the forwarder's config schema.
// `npm run docs:config` (after `tsc -b`); a unit test fails while the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { configReferenceMarkdown } from '@graybridge/forwarder/config';

const path = new URL('../docs/configuration.md', import.meta.url);
const text = readFileSync(path, 'utf8');
const marked = /(<!-- config:reference -->)[\s\S]*?(<!-- \/config:reference -->)/;
if (!marked.test(text)) throw new Error('docs/configuration.md has no <!-- config:reference --> markers');
writeFileSync(
  path,
  text.replace(marked, (_, open, close) => `${open}\n${configReferenceMarkdown()}\n${close}`),
);
console.log('docs/configuration.md: reference updated');
