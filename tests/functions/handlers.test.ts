import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { backup } from '../../functions/backup';
import { decrement } from '../../functions/decrement';
import { getValue } from '../../functions/get';
import { health } from '../../functions/health';
import { increment } from '../../functions/increment';
import { resetServices } from '../../shared/services';
import { tempDir } from '../support/temp-dir';

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

let dir: string;
let remove: () => void;
let logs: Array<{ level: string; message: string }>;

beforeEach(() => {
  ({ dir, remove } = tempDir());
  process.env.COUNTER_DATA_DIR = dir;
  process.env.COUNTER_CONFIG_FILE = path.join(dir, 'no-config.json');
  delete process.env.COUNTER_WRITE_KEY;
  delete process.env.COUNTER_READ_KEY;
  resetServices();
  logs = [];
});
afterEach(() => remove());

const setValue = (value: string) => writeFileSync(path.join(dir, 'data.bin'), value);
const storedValue = () => readFileSync(path.join(dir, 'data.bin'), 'latin1');

interface Call {
  query?: string;
  body?: string;
  headers?: Record<string, string>;
}

async function call(handler: Handler, method: string, route: string, init: Call = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (
    init.body !== undefined &&
    !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
  ) {
    headers['content-type'] = 'application/json';
  }
  const request = new HttpRequest({
    method,
    url: `http://localhost/${route}${init.query ?? ''}`,
    headers,
    body: init.body === undefined ? undefined : { string: init.body },
  });
  const context = new InvocationContext({
    functionName: route,
    logHandler: (level, ...args) => logs.push({ level, message: args.map(String).join(' ') }),
  });
  const response = await handler(request, context);
  const responseHeaders = new Headers(response.headers as Record<string, string>);
  const text = typeof response.body === 'string' ? response.body : '';
  return { status: response.status ?? 200, headers: responseHeaders, text, json: JSON.parse(text) };
}

const get = (init?: Call) => call(getValue, 'GET', 'get', init);
const inc = (init?: Call) => call(increment, 'POST', 'increment', init);
const dec = (init?: Call) => call(decrement, 'POST', 'decrement', init);

describe('GET /get', () => {
  it('answers 200 {"value": N} as application/json', async () => {
    setValue('42');
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ value: 42 });
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  it('starts a fresh data directory at 0', async () => {
    expect((await get()).json).toEqual({ value: 0 });
    expect(storedValue()).toBe('0');
  });

  it('heals a corrupt data.bin from backup.bin and logs one warning', async () => {
    setValue('garbage');
    writeFileSync(path.join(dir, 'backup.bin'), '8');
    expect((await get()).json).toEqual({ value: 8 });
    expect(logs.filter((l) => l.level === 'warning')).toEqual([
      { level: 'warning', message: expect.stringMatching(/data\.bin was corrupt.*restored 8/) },
    ]);
  });

  it('writes values beyond 2^53 exactly', async () => {
    setValue('9223372036854775807');
    expect((await get()).text).toBe('{"value":9223372036854775807}');
  });
});

describe('POST /increment and /decrement', () => {
  it('adds 1 by default and answers the new value', async () => {
    setValue('10');
    expect(await inc()).toMatchObject({ status: 200, json: { value: 11 } });
    expect(await dec()).toMatchObject({ status: 200, json: { value: 10 } });
    expect(storedValue()).toBe('10');
  });

  it('takes the step from ?by=', async () => {
    expect((await inc({ query: '?by=5' })).json).toEqual({ value: 5 });
    expect((await dec({ query: '?by=7' })).json).toEqual({ value: -2 });
  });

  it('takes the step from a JSON body', async () => {
    expect((await inc({ body: '{"by": 5}' })).json).toEqual({ value: 5 });
    expect((await dec({ body: '{"by": 2}' })).json).toEqual({ value: 3 });
  });

  it('accepts the step as a decimal string in the body', async () => {
    expect((await inc({ body: '{"by": "9007199254740993"}' })).text).toBe(
      '{"value":9007199254740993}',
    );
  });

  it('accepts the same step given in both query and body', async () => {
    expect((await inc({ query: '?by=3', body: '{"by": 3}' })).json).toEqual({ value: 3 });
  });

  it('answers 400 and changes nothing when query and body steps differ', async () => {
    setValue('1');
    const res = await inc({ query: '?by=3', body: '{"by": 4}' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/given twice and differs/);
    expect(storedValue()).toBe('1');
  });

  it('writes steps beyond 2^53 exactly', async () => {
    const res = await inc({ body: '{"by": 9007199254740993}' });
    expect(res.text).toBe('{"value":9007199254740993}');
    expect(storedValue()).toBe('9007199254740993');
    setValue('0');
    expect((await inc({ query: '?by=9223372036854775806' })).text).toBe(
      '{"value":9223372036854775806}',
    );
  });

  it.each([
    ['zero', '?by=0'],
    ['a negative number', '?by=-1'],
    ['a fraction', '?by=1.5'],
    ['an exponent', '?by=1e3'],
    ['a word', '?by=five'],
    ['an empty value', '?by='],
    ['a plus sign', '?by=%2B5'],
    ['surrounding spaces', '?by=%205'],
    ['a value beyond the 64-bit range', '?by=9223372036854775808'],
    ['a very long number', `?by=${'9'.repeat(200)}`],
    ['two by parameters', '?by=1&by=2'],
  ])('answers 400 to a query step that is %s', async (_case, query) => {
    setValue('1');
    const res = await inc({ query });
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual(expect.any(String));
    expect(storedValue()).toBe('1');
  });

  it.each([
    ['malformed JSON', '{"by": 5'],
    ['a JSON array', '[5]'],
    ['a bare number', '5'],
    ['null', 'null'],
    ['a step of zero', '{"by": 0}'],
    ['a negative step', '{"by": -3}'],
    ['a fractional step', '{"by": 2.5}'],
    ['a step in exponent form', '{"by": 1e2}'],
    ['a step of null', '{"by": null}'],
    ['a step of true', '{"by": true}'],
    ['a step that is an object', '{"by": {"n": 1}}'],
    ['a step beyond the 64-bit range', '{"by": 9223372036854775808}'],
    ['an unknown field', '{"by": 1, "step": 2}'],
    ['a duplicated field', '{"by": 1, "by": 2}'],
  ])('answers 400 to a body with %s', async (_case, body) => {
    setValue('1');
    const res = await inc({ body });
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual(expect.any(String));
    expect(storedValue()).toBe('1');
  });

  it('answers 415 to a body that is not JSON', async () => {
    setValue('1');
    const res = await inc({
      body: 'by=5',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expect(res.json.error).toMatch(/application\/json/);
    expect(storedValue()).toBe('1');
  });

  it('answers 413 to a body larger than 8 KiB', async () => {
    setValue('1');
    const res = await inc({ body: `{"by": 1, "pad": "${'x'.repeat(9000)}"}` });
    expect(res.status).toBe(413);
    expect(storedValue()).toBe('1');
  });

  it('answers 409 and changes nothing when the change would leave the 64-bit range', async () => {
    setValue('9223372036854775807');
    const up = await inc();
    expect(up.status).toBe(409);
    expect(up.json.error).toMatch(/64-bit range/);
    setValue('-9223372036854775808');
    expect((await dec()).status).toBe(409);
    expect(storedValue()).toBe('-9223372036854775808');
  });

  it('answers 503 with Retry-After when storage is unavailable', async () => {
    setValue('4');
    await get();
    rmSync(dir, { recursive: true });
    const res = await inc();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.json.error).toMatch(/data directory is missing/);
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('the write and read keys', () => {
  it('demands the write key for changes and answers 401 with WWW-Authenticate without it', async () => {
    process.env.COUNTER_WRITE_KEY = 's3cret';
    resetServices();
    setValue('1');
    for (const headers of <Array<Record<string, string>>>[
      {},
      { authorization: 'Bearer wrong' },
      { authorization: 's3cret' },
    ]) {
      const res = await inc({ headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(storedValue()).toBe('1');
    expect((await inc({ headers: { authorization: 'Bearer s3cret' } })).json).toEqual({ value: 2 });
    expect((await get()).status).toBe(200);
    expect(JSON.stringify(logs)).not.toContain('s3cret');
  });

  it('demands the read key for reads when one is set', async () => {
    process.env.COUNTER_READ_KEY = 'peek';
    resetServices();
    expect((await get()).status).toBe(401);
    expect((await get({ headers: { authorization: 'Bearer peek' } })).status).toBe(200);
  });

  it('lets the write key read too, and keeps the read key from writing', async () => {
    process.env.COUNTER_READ_KEY = 'peek';
    process.env.COUNTER_WRITE_KEY = 'poke';
    resetServices();
    expect((await get({ headers: { authorization: 'Bearer poke' } })).status).toBe(200);
    expect((await inc({ headers: { authorization: 'Bearer peek' } })).status).toBe(401);
    expect((await inc({ headers: { authorization: 'Bearer poke' } })).status).toBe(200);
  });
});

describe('GET /health', () => {
  it('answers 200 when the directory is writable and the value valid', async () => {
    const res = await call(health, 'GET', 'health');
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('ok');
    expect(readdirSync(dir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('answers 503 with the reason when the data directory is gone', async () => {
    await get();
    rmSync(dir, { recursive: true });
    const res = await call(health, 'GET', 'health');
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ status: 'unavailable', error: expect.stringMatching(/missing/) });
  });
});

describe('the backup timer', () => {
  it('copies the current value to backup.bin', async () => {
    setValue('77');
    const context = new InvocationContext({ logHandler: () => undefined });
    await backup(
      {
        isPastDue: false,
        schedule: { adjustForDST: false },
        scheduleStatus: { last: '', next: '', lastUpdated: '' },
      },
      context,
    );
    expect(readFileSync(path.join(dir, 'backup.bin'), 'latin1')).toBe('77');
  });
});
