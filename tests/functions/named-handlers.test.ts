import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { decrement } from '../../functions/decrement';
import { getValue } from '../../functions/get';
import { increment } from '../../functions/increment';
import { openApi } from '../../functions/openapi';
import { setValue } from '../../functions/set';
import { resetServices } from '../../shared/services';
import { tempDir } from '../support/temp-dir';

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

let dir: string;
let remove: () => void;
let logs: string[];

beforeEach(() => {
  ({ dir, remove } = tempDir());
  process.env.COUNTER_DATA_DIR = dir;
  process.env.COUNTER_CONFIG_FILE = path.join(dir, 'no-config.json');
  process.env.COUNTER_ADMIN_KEY = 'admin-secret';
  delete process.env.COUNTER_MAX_NAMED;
  delete process.env.COUNTER_WRITE_KEY;
  delete process.env.COUNTER_READ_KEY;
  resetServices();
  logs = [];
});
afterEach(() => {
  delete process.env.COUNTER_ADMIN_KEY;
  remove();
});

interface Call {
  name?: string;
  query?: string;
  body?: string;
  headers?: Record<string, string>;
}

async function call(handler: Handler, method: string, init: Call = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const request = new HttpRequest({
    method,
    url: `http://localhost/route${init.query ?? ''}`,
    headers,
    params: init.name === undefined ? {} : { name: init.name },
    body: init.body === undefined ? undefined : { string: init.body },
  });
  const context = new InvocationContext({
    logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')),
  });
  const response = await handler(request, context);
  const text = typeof response.body === 'string' ? response.body : '';
  return { status: response.status ?? 200, text, json: JSON.parse(text) as unknown };
}

const ADMIN = { authorization: 'Bearer admin-secret' };
const named = (name: string, file: string) => path.join(dir, 'counters', name, file);

describe('named counters through the handlers', () => {
  it('reads a never-changed name as 0 and writes nothing', async () => {
    expect((await call(getValue, 'GET', { name: 'fresh' })).json).toEqual({ value: 0 });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('increments and decrements a named counter apart from the default one', async () => {
    expect((await call(increment, 'POST', { name: 'hits', query: '?by=5' })).json).toEqual({
      value: 5,
    });
    expect((await call(decrement, 'POST', { name: 'hits', body: '{"by": 2}' })).json).toEqual({
      value: 3,
    });
    expect((await call(getValue, 'GET')).json).toEqual({ value: 0 });
    expect(readFileSync(named('hits', 'data.bin'), 'latin1')).toBe('3');
  });

  it('folds an upper-case name onto the same counter', async () => {
    await call(increment, 'POST', { name: 'Hits' });
    expect((await call(getValue, 'GET', { name: 'HITS' })).json).toEqual({ value: 1 });
  });

  it.each(['..', 'a.b', '-x', 'con', 'x'.repeat(65)])(
    'answers 400 to the name %s and creates nothing',
    async (name) => {
      const reply = await call(increment, 'POST', { name });
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual({ error: expect.stringMatching(/counter name|device name/) });
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it('answers 507 when COUNTER_MAX_NAMED is reached, and creates nothing', async () => {
    process.env.COUNTER_MAX_NAMED = '1';
    resetServices();
    await call(increment, 'POST', { name: 'first' });
    const reply = await call(increment, 'POST', { name: 'second' });
    expect(reply.status).toBe(507);
    expect(reply.json).toEqual({ error: expect.stringMatching(/COUNTER_MAX_NAMED \(1\)/) });
    expect(existsSync(path.join(dir, 'counters', 'second'))).toBe(false);
  });
});

describe('PUT /set', () => {
  it('sets a named counter exactly, beyond 2^53, from the body', async () => {
    const reply = await call(setValue, 'PUT', {
      name: 'migrated',
      body: '{"value": -9007199254740993}',
      headers: ADMIN,
    });
    expect(reply).toMatchObject({ status: 200, text: '{"value":-9007199254740993}' });
    expect(readFileSync(named('migrated', 'data.bin'), 'latin1')).toBe('-9007199254740993');
  });

  it('logs each set with the counter and the value, never the key', async () => {
    await call(setValue, 'PUT', { name: 'Audited', query: '?value=12', headers: ADMIN });
    expect(logs).toContain('set "audited" to 12');
    expect(logs.join('\n')).not.toContain('admin-secret');
  });

  it('sets the default counter from ?value=', async () => {
    await call(increment, 'POST', { query: '?by=9' });
    const reply = await call(setValue, 'PUT', { query: '?value=0', headers: ADMIN });
    expect(reply.json).toEqual({ value: 0 });
    expect(readFileSync(path.join(dir, 'data.bin'), 'latin1')).toBe('0');
  });

  it.each([
    ['no value', {}],
    ['a value out of range', { query: '?value=9223372036854775808' }],
    ['a fraction', { body: '{"value": 1.5}' }],
    ['two different values', { query: '?value=1', body: '{"value": 2}' }],
    ['an unknown field', { body: '{"value": 1, "by": 2}' }],
  ])('answers 400 to %s and changes nothing', async (_case, init) => {
    const reply = await call(setValue, 'PUT', { name: 'x', ...init, headers: ADMIN });
    expect(reply.status).toBe(400);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    ['no Authorization header', {}],
    ['a wrong key', { authorization: 'Bearer wrong' }],
    ['the write key', { authorization: 'Bearer writer' }],
  ])('answers 401 with %s and changes nothing', async (_case, headers) => {
    process.env.COUNTER_WRITE_KEY = 'writer';
    resetServices();
    const reply = await call(setValue, 'PUT', { name: 'x', query: '?value=5', headers });
    expect(reply.status).toBe(401);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('answers 403 when COUNTER_ADMIN_KEY is not configured, whatever the request carries', async () => {
    delete process.env.COUNTER_ADMIN_KEY;
    resetServices();
    for (const headers of [{}, ADMIN, { authorization: 'Bearer ' }]) {
      const reply = await call(setValue, 'PUT', { query: '?value=5', headers });
      expect(reply.status).toBe(403);
      expect(reply.json).toEqual({ error: expect.stringMatching(/COUNTER_ADMIN_KEY/) });
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('GET /openapi.json', () => {
  it('serves the OpenAPI 3.1 document', async () => {
    const reply = await openApi();
    const body = JSON.parse(String(reply.body)) as { openapi: string; paths: object };
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(['/get/{name}', '/increment/{name}', '/set/{name}']),
    );
  });
});
