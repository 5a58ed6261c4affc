import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { deleteCounter } from '../../functions/delete-counter';
import { getValue } from '../../functions/get';
import { increment } from '../../functions/increment';
import { listCounters } from '../../functions/list-counters';
import { getCounters, resetServices } from '../../shared/services';
import { callHandler, type CallInit } from '../support/call-handler';
import { tempDir } from '../support/temp-dir';

let dir: string;
let remove: () => void;

beforeEach(() => {
  ({ dir, remove } = tempDir());
  process.env.COUNTER_DATA_DIR = dir;
  process.env.COUNTER_CONFIG_FILE = path.join(dir, 'no-config.json');
  process.env.COUNTER_ADMIN_KEY = 'admin-secret';
  delete process.env.COUNTER_MAX_NAMED;
  delete process.env.COUNTER_WRITE_KEY;
  delete process.env.COUNTER_READ_KEY;
  resetServices();
});
afterEach(() => {
  delete process.env.COUNTER_ADMIN_KEY;
  delete process.env.COUNTER_READ_KEY;
  delete process.env.COUNTER_WRITE_KEY;
  delete process.env.COUNTER_MAX_NAMED;
  resetServices();
  remove();
});

const ADMIN = { authorization: 'Bearer admin-secret' };
const list = (query = '', init: CallInit = {}) => callHandler(listCounters, { ...init, query });
const deleteNamed = (name: string, headers: Record<string, string> = ADMIN) =>
  callHandler(deleteCounter, { method: 'DELETE', name, headers });
const add = (name: string, by: bigint) => getCounters().add(name, by);
const counterDir = (name: string) => path.join(dir, 'counters', name);

describe('GET /counters', () => {
  it('lists the named counters by name with their values, written exactly', async () => {
    await add('beta', 2n);
    await add('alpha', 9007199254740993n);
    await add('gamma', -3n);
    const reply = await list();
    expect(reply.status).toBe(200);
    expect(reply.header('content-type')).toBe('application/json');
    expect(reply.text).toBe(
      '{"counters":[{"name":"alpha","value":9007199254740993},{"name":"beta","value":2},{"name":"gamma","value":-3}],"next":null}',
    );
  });

  it('answers an empty list, and creates nothing, when no named counter exists', async () => {
    expect((await list()).text).toBe('{"counters":[],"next":null}');
    expect(readdirSync(dir).filter((entry) => entry !== 'counters')).toEqual([]);
  });

  it('pages through every counter exactly once with limit, after and next', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    await Promise.all(names.map((name, i) => add(name, BigInt(i + 1))));
    const seen: string[] = [];
    let after: string | null = '';
    let pages = 0;
    while (after !== null) {
      const reply = await list(`?limit=10${after ? `&after=${after}` : ''}`);
      const page = JSON.parse(reply.text) as {
        counters: { name: string; value: number }[];
        next: string | null;
      };
      expect(page.counters.length).toBeLessThanOrEqual(10);
      for (const { name, value } of page.counters) {
        expect(value).toBe(names.indexOf(name) + 1);
        seen.push(name);
      }
      after = page.next;
      pages += 1;
    }
    expect(seen).toEqual(names);
    expect(pages).toBe(3);
  });

  it('gives next only when another page follows', async () => {
    await add('a', 1n);
    await add('b', 1n);
    expect(JSON.parse((await list('?limit=2')).text).next).toBeNull();
    expect(JSON.parse((await list('?limit=1')).text).next).toBe('a');
    expect(JSON.parse((await list('?limit=1&after=a')).text)).toEqual({
      counters: [{ name: 'b', value: 1 }],
      next: null,
    });
  });

  it('filters by the start of the name, folding upper case', async () => {
    await add('page-home', 1n);
    await add('page-about', 2n);
    await add('visits', 3n);
    expect(JSON.parse((await list('?prefix=PAGE-')).text)).toEqual({
      counters: [
        { name: 'page-about', value: 2 },
        { name: 'page-home', value: 1 },
      ],
      next: null,
    });
  });

  it('takes a device name as a prefix, since longer names start with it', async () => {
    await add('console', 1n);
    expect(JSON.parse((await list('?prefix=con')).text).counters).toEqual([
      { name: 'console', value: 1 },
    ]);
  });

  it.each([
    ['a limit of 0', '?limit=0', '?limit= must be a whole number from 1 to 1000; got "0"'],
    ['a limit over 1000', '?limit=1001', '?limit= must be a whole number from 1 to 1000'],
    ['a limit that is not a number', '?limit=ten', '?limit= must be a whole number'],
    ['a fractional limit', '?limit=1.5', '?limit= must be a whole number'],
    ['two limits', '?limit=1&limit=2', 'give ?limit= at most once'],
    ['an after that is no name', '?after=..%2Fx', 'a counter name is 1 to 64 characters'],
    ['an empty after', '?after=', '?after= must be a counter name'],
    [
      'a prefix outside the alphabet',
      '?prefix=a%2F',
      '?prefix= must be the start of a counter name',
    ],
    ['a prefix starting with "-"', '?prefix=-x', '?prefix= must be the start of a counter name'],
    ['a prefix too long', `?prefix=${'a'.repeat(65)}`, '?prefix= must be the start'],
  ])('answers 400 to %s', async (_case, query, message) => {
    const reply = await list(query);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error).toContain(message);
  });

  it('needs the read key (or the write key) when one is configured, as /get does', async () => {
    process.env.COUNTER_READ_KEY = 'read-secret';
    process.env.COUNTER_WRITE_KEY = 'write-secret';
    resetServices();
    const without = await list();
    expect(without.status).toBe(401);
    expect(without.header('www-authenticate')).toBe('Bearer realm="rusty-counter"');
    expect((await list('', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    for (const key of ['read-secret', 'write-secret']) {
      expect((await list('', { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    }
  });
});

describe('DELETE /counters/{name}', () => {
  it('removes the counter with its backup and answers the value it held', async () => {
    await add('visits', 41n);
    await getCounters().backup(() => undefined);
    expect(existsSync(path.join(counterDir('visits'), 'backup.bin'))).toBe(true);
    const reply = await deleteNamed('visits');
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"name":"visits","value":41}');
    expect(existsSync(counterDir('visits'))).toBe(false);
    expect((await list()).text).toBe('{"counters":[],"next":null}');
    expect((await callHandler(getValue, { name: 'visits' })).text).toBe('{"value":0}');
  });

  it('logs one line per delete, naming the counter and its value', async () => {
    await add('visits', 7n);
    const reply = await deleteNamed('Visits');
    expect(reply.logs).toEqual(['deleted "visits", which held 7']);
  });

  it('starts a counter changed after its delete again from 0', async () => {
    await add('visits', 41n);
    await deleteNamed('visits');
    const reply = await callHandler(increment, { method: 'POST', name: 'visits' });
    expect(reply.text).toBe('{"value":1}');
  });

  it('frees its place under COUNTER_MAX_NAMED', async () => {
    process.env.COUNTER_MAX_NAMED = '1';
    resetServices();
    await add('first', 1n);
    expect((await callHandler(increment, { method: 'POST', name: 'second' })).status).toBe(507);
    expect((await deleteNamed('first')).status).toBe(200);
    expect((await callHandler(increment, { method: 'POST', name: 'second' })).status).toBe(200);
  });

  it('answers 404 JSON for a counter that does not exist, and creates nothing', async () => {
    const reply = await deleteNamed('never-made');
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.text)).toEqual({ error: expect.stringContaining('never-made') });
    expect(existsSync(counterDir('never-made'))).toBe(false);
    expect(reply.logs.filter((line) => line.startsWith('deleted'))).toEqual([]);
  });

  it('answers 400 naming the rule for a name that breaks it', async () => {
    const reply = await deleteNamed('..');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error).toContain('a counter name is 1 to 64 characters');
  });

  it('is disabled (403) while COUNTER_ADMIN_KEY is not configured', async () => {
    delete process.env.COUNTER_ADMIN_KEY;
    resetServices();
    await add('visits', 5n);
    const reply = await deleteNamed('visits');
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.text)).toEqual({
      error:
        'deleting a counter is disabled; configure COUNTER_ADMIN_KEY to enable DELETE /counters/{name}',
    });
    expect(await getCounters().read('visits')).toBe(5n);
  });

  it.each([
    ['no key', {}],
    ['a wrong key', { authorization: 'Bearer nope' }],
  ])('answers 401 to %s and deletes nothing', async (_case, headers) => {
    process.env.COUNTER_WRITE_KEY = 'write-secret';
    resetServices();
    await add('visits', 5n);
    const reply = await deleteNamed('visits', headers);
    expect(reply.status).toBe(401);
    expect(reply.header('www-authenticate')).toBe('Bearer realm="rusty-counter"');
    expect(await getCounters().read('visits')).toBe(5n);
  });

  it('does not take the write key in place of the admin key', async () => {
    process.env.COUNTER_WRITE_KEY = 'write-secret';
    resetServices();
    await add('visits', 5n);
    expect((await deleteNamed('visits', { authorization: 'Bearer write-secret' })).status).toBe(
      401,
    );
  });
});
