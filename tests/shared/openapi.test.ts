import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { NAME_PATTERN, RESERVED_NAMES } from '../../shared/counter-name';
import { openApiDocument } from '../../shared/openapi';
import { expectConformant } from '../openapi-conformance';
import { tempDir } from '../support/temp-dir';

// The maintained validator is an ES module with a command-line entry; Jest runs CommonJS,
// so the document is validated by running that entry on a file.
const VALIDATOR_CLI = path.resolve(
  __dirname,
  '../../node_modules/@seriousme/openapi-schema-validator/bin/validate-api-cli.js',
);

// @redocly/openapi-core is an ES module too: scripts/lint-openapi.mjs runs its lint on a file.
const REDOCLY_LINT = path.resolve(__dirname, '../../scripts/lint-openapi.mjs');

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  text: JSON.stringify(body),
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document for @seriousme/openapi-schema-validator', () => {
    const { dir, remove } = tempDir();
    try {
      const file = path.join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(openApiDocument));
      let output: string;
      try {
        output = execFileSync(process.execPath, [VALIDATOR_CLI, file], { encoding: 'utf8' });
      } catch (err) {
        throw new Error(`openapi.json is invalid:\n${(err as { stdout?: string }).stdout}`);
      }
      expect(JSON.parse(output)).toMatchObject({ valid: true });
    } finally {
      remove();
    }
  });

  it("passes Redocly's recommended ruleset with no error and no warning", () => {
    const { dir, remove } = tempDir();
    try {
      const file = path.join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(openApiDocument));
      const result = spawnSync(process.execPath, [REDOCLY_LINT, file], { encoding: 'utf8' });
      expect({ problems: JSON.parse(result.stdout), stderr: result.stderr }).toEqual({
        problems: [],
        stderr: '',
      });
    } finally {
      remove();
    }
  });

  it('gives servers relative to wherever it is served', () => {
    expect(openApiDocument.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it('documents OPTIONS on every path, with the Allow header the catch-all sends', () => {
    for (const [template, item] of Object.entries(openApiDocument.paths as object)) {
      const options = (item as Record<string, { responses: Record<string, object> }>).options;
      expect({ template, headers: options?.responses['204'] }).toMatchObject({
        template,
        headers: { headers: { Allow: { $ref: '#/components/headers/Allow' } } },
      });
    }
  });

  it('states the name rules the parser enforces', () => {
    const schema = (openApiDocument.components as Record<string, Record<string, object>>).schemas
      .CounterName;
    expect(schema).toMatchObject({ maxLength: 64, not: { enum: [...RESERVED_NAMES] } });
    expect(JSON.stringify(schema)).toContain(
      JSON.stringify(NAME_PATTERN.replace(/a-z/g, 'a-zA-Z')),
    );
  });
});

describe('the conformance check used by the e2e tests', () => {
  it('accepts documented answers', () => {
    expect(() => expectConformant('GET', '/get/visits', json(200, { value: 5 }))).not.toThrow();
    expect(() =>
      expectConformant('POST', '/increment', json(503, { error: 'full' }, { 'retry-after': '1' })),
    ).not.toThrow();
    expect(() =>
      expectConformant('PUT', '/set/x?value=1', json(507, { error: 'cap' })),
    ).not.toThrow();
  });

  it("accepts the catch-all's answers: 404, 405 with Allow, and 204 to OPTIONS", () => {
    const empty = (status: number, headers: Record<string, string>) => ({
      status,
      headers,
      text: '',
    });
    expect(() => expectConformant('PATCH', '/nothing', json(404, { error: 'x' }))).not.toThrow();
    expect(() =>
      expectConformant(
        'GET',
        '/counters/visits',
        json(405, { error: 'x' }, { allow: 'DELETE, OPTIONS' }),
      ),
    ).not.toThrow();
    expect(() =>
      expectConformant('OPTIONS', '/counters', empty(204, { allow: 'GET, OPTIONS' })),
    ).not.toThrow();
    expect(() =>
      expectConformant('DELETE', '/counters/gone', json(404, { error: 'x' })),
    ).not.toThrow();
    expect(() =>
      expectConformant(
        'GET',
        '/counters?limit=1',
        json(200, { counters: [{ name: 'a', value: 1 }], next: 'a' }),
      ),
    ).not.toThrow();
  });

  it.each([
    ['an undocumented status', 'GET', '/get', json(409, { error: 'x' })],
    ['an undocumented route', 'GET', '/nothing', json(200, { value: 1 })],
    ['an undocumented method', 'DELETE', '/get', json(200, { value: 1 })],
    ['a body off the schema', 'GET', '/get', json(200, { value: '5' })],
    ['an extra field', 'GET', '/get', json(200, { value: 5, extra: 1 })],
    ['a missing Retry-After', 'POST', '/increment', json(503, { error: 'full' })],
    ['507 on the default counter', 'POST', '/increment', json(507, { error: 'cap' })],
    ['another content type', 'GET', '/get', { status: 200, headers: {}, text: '{"value":1}' }],
    ['a 405 without Allow', 'DELETE', '/get', json(405, { error: 'x' })],
    ['a 405 whose Allow differs', 'DELETE', '/get', json(405, { error: 'x' }, { allow: 'GET' })],
    ['a 404 on a documented operation', 'GET', '/get', json(404, { error: 'x' })],
    ['a 404 that is not JSON', 'GET', '/nothing', { status: 404, headers: {}, text: '' }],
    [
      'OPTIONS with another Allow',
      'OPTIONS',
      '/get',
      { status: 204, headers: { allow: 'GET, POST, OPTIONS' }, text: '' },
    ],
    ['a list without next', 'GET', '/counters', json(200, { counters: [] })],
  ])('refuses %s', (_case, method, url, reply) => {
    expect(() => expectConformant(method, url, reply)).toThrow();
  });
});
