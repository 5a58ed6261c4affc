// Lints an OpenAPI document with Redocly's recommended ruleset, through @redocly/openapi-core's
// programmatic API (the library under Redocly CLI, without the CLI's own dependencies). It is an
// ES module only, so tests/shared/openapi.test.ts runs this file rather than importing it.
// Usage: node scripts/lint-openapi.mjs <openapi.json>; prints the problems as JSON, one object
// per problem, and exits 1 when there is any.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/lint-openapi.mjs <openapi.json>');
  process.exit(2);
}
const config = await createConfig({ extends: ['recommended'] });
const problems = await lintFromString({
  source: readFileSync(file, 'utf8'),
  absoluteRef: path.resolve(file),
  config,
});
const shown = problems.map(({ ruleId, severity, message, location }) => ({
  ruleId,
  severity,
  message,
  at: location.map(({ pointer }) => pointer).join(' '),
}));
console.log(JSON.stringify(shown, null, 2));
process.exit(shown.length === 0 ? 0 : 1);
