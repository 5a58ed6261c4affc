import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir, type HostProcess, startHost } from '../support/host-process';
// Every answer is checked against openapi.json.
import { conformantRequest as request } from '../openapi-conformance';

// The real app under the offline host, over HTTP: every endpoint and error of the SPEC.

const NO_BACKUPS = '0 0 0 1 1 *';
const MAX = '9223372036854775807';
const MIN = '-9223372036854775808';

let host: HostProcess;

beforeAll(async () => {
  host = await startHost({ env: { BACKUP_SCHEDULE: NO_BACKUPS, LOG_LEVEL: 'warning' } });
});

afterAll(async () => {
  await host?.stop();
});

const dataFile = () => path.join(host.dataDir, 'data.bin');
const setValue = (value: string) => writeFileSync(dataFile(), value);
const post = (route: string, body?: string, headers: Record<string, string> = {}) =>
  request(`${host.url}${route}`, {
    method: 'POST',
    body,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
  });

describe('GET /get', () => {
  it('answers 200 {"value": 0} on an empty data directory and writes data.bin', async () => {
    const reply = await request(`${host.url}/get`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.json()).toEqual({ value: 0 });
    expect(readFileSync(dataFile(), 'latin1')).toBe('0');
  });

  it('answers values beyond 2^53 exactly', async () => {
    setValue('9007199254740993');
    expect((await request(`${host.url}/get`)).text).toBe('{"value":9007199254740993}');
  });

  it('is not served on the "api" prefix, which host.json removes', async () => {
    expect((await request(`${host.url}/api/get`)).status).toBe(404);
  });
});

describe('POST /increment and /decrement', () => {
  beforeEach(() => setValue('10'));

  it('adds 1 by default and answers the new value', async () => {
    const reply = await post('/increment');
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ value: 11 });
    expect(readFileSync(dataFile(), 'latin1')).toBe('11');
  });

  it('subtracts 1 by default and answers the new value', async () => {
    expect((await post('/decrement')).json()).toEqual({ value: 9 });
  });

  it('takes the step from ?by=K', async () => {
    expect((await post('/increment?by=5')).json()).toEqual({ value: 15 });
    expect((await post('/decrement?by=7')).json()).toEqual({ value: 8 });
  });

  it('takes the step from a JSON body {"by": K}, exactly beyond 2^53', async () => {
    expect((await post('/increment', '{"by": 9007199254740993}')).text).toBe(
      '{"value":9007199254741003}',
    );
  });

  it('accepts the same step in query and body', async () => {
    expect((await post('/increment?by=3', '{"by": 3}')).json()).toEqual({ value: 13 });
  });

  it.each([
    ['two different steps', '/increment?by=2', '{"by": 3}'],
    ['a zero step', '/increment?by=0', undefined],
    ['a negative step', '/decrement?by=-1', undefined],
    ['a step that is not a number', '/increment?by=abc', undefined],
    ['a fractional step in the body', '/increment', '{"by": 1.5}'],
    ['a malformed body', '/increment', '{"by": '],
    ['a step beyond the 64-bit range', '/increment?by=9223372036854775808', undefined],
  ])(
    'answers 400 with a JSON error for %s, leaving the value unchanged',
    async (_case, route, body) => {
      const reply = await post(route, body);
      expect(reply.status).toBe(400);
      expect(reply.json()).toEqual({ error: expect.any(String) });
      expect(readFileSync(dataFile(), 'latin1')).toBe('10');
    },
  );

  it('answers 409 when an increment would pass the largest 64-bit value, leaving it unchanged', async () => {
    setValue(MAX);
    const reply = await post('/increment');
    expect(reply.status).toBe(409);
    expect(reply.json()).toEqual({ error: expect.any(String) });
    expect(readFileSync(dataFile(), 'latin1')).toBe(MAX);
  });

  it('answers 409 when a decrement would pass the smallest 64-bit value, leaving it unchanged', async () => {
    setValue(MIN);
    expect((await post('/decrement')).status).toBe(409);
    expect(readFileSync(dataFile(), 'latin1')).toBe(MIN);
  });

  it('reaches the ends of the range exactly', async () => {
    setValue('9223372036854775806');
    expect((await post('/increment')).text).toBe(`{"value":${MAX}}`);
  });

  it('gives concurrent increments distinct values and loses none', async () => {
    setValue('0');
    const replies = await Promise.all(Array.from({ length: 40 }, () => post('/increment')));
    const values = replies
      .map((reply) => (reply.json() as { value: number }).value)
      .sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(readFileSync(dataFile(), 'latin1')).toBe('40');
  });

  it('is answered 405 with Allow and a JSON error for GET', async () => {
    const reply = await request(`${host.url}/increment`);
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('POST, OPTIONS');
    expect(reply.json()).toEqual({ error: expect.stringContaining('POST') });
  });
});

describe('other answers', () => {
  it('GET /health answers 200 when the data directory works', async () => {
    const reply = await request(`${host.url}/health`);
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ status: 'ok' });
  });

  it('HEAD /health answers the same status without a body, for monitors that probe with HEAD', async () => {
    const reply = await request(`${host.url}/health`, { method: 'HEAD' });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
  });

  it('answers HEAD /get with 405, as the Functions host sends HEAD only where a function lists it', async () => {
    const reply = await request(`${host.url}/get`, { method: 'HEAD' });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET, OPTIONS');
  });

  it('answers 404 with a JSON error for an unknown route', async () => {
    const reply = await request(`${host.url}/nothing-here`);
    expect(reply.status).toBe(404);
    expect(reply.json()).toEqual({ error: 'nothing is served at /nothing-here' });
  });

  it('answers a path that starts with // as a path where nothing is served', async () => {
    const reply = await request(`${host.url}//get`);
    expect(reply.status).toBe(404);
    expect(reply.json()).toEqual({ error: 'nothing is served at //get' });
  });

  it('answers OPTIONS with 204 and the methods of the path in Allow', async () => {
    const reply = await request(`${host.url}/get/visits`, { method: 'OPTIONS' });
    expect(reply.status).toBe(204);
    expect(reply.headers.allow).toBe('GET, OPTIONS');
  });
});

describe('when storage is unavailable', () => {
  let broken: HostProcess;
  let parent: string;

  beforeAll(async () => {
    // The data directory lies under a regular file, so it can neither be created nor used.
    parent = createTempDir();
    writeFileSync(path.join(parent, 'file'), '');
    broken = await startHost({
      dataDir: path.join(parent, 'file', 'data'),
      env: { BACKUP_SCHEDULE: NO_BACKUPS, LOG_LEVEL: 'error' },
    });
  });

  afterAll(async () => {
    await broken?.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  it.each([
    ['GET', '/get'],
    ['POST', '/increment'],
    ['POST', '/decrement'],
    ['GET', '/health'],
  ])('answers %s %s with 503, a JSON error and Retry-After', async (method, route) => {
    const reply = await request(`${broken.url}${route}`, { method });
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toMatch(/^\d+$/);
    expect(reply.json()).toMatchObject({ error: expect.any(String) });
  });

  it('answers HEAD /health with 503 and Retry-After', async () => {
    const reply = await request(`${broken.url}/health`, { method: 'HEAD' });
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toMatch(/^\d+$/);
  });
});
