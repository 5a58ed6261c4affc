import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openApiDocument } from '../../shared/openapi';
import { conformantRequest as request } from '../openapi-conformance';
import { type HostProcess, startHost } from '../support/host-process';

// Named counters, PUT /set and GET /openapi.json through the offline host, over HTTP. Every
// answer is checked against openapi.json.

const NO_BACKUPS = '0 0 0 1 1 *';
const ADMIN_KEY = 'admin-e2e-key';
const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` };

let host: HostProcess;

beforeAll(async () => {
  host = await startHost({
    env: {
      BACKUP_SCHEDULE: NO_BACKUPS,
      LOG_LEVEL: 'warning',
      COUNTER_ADMIN_KEY: ADMIN_KEY,
      COUNTER_MAX_NAMED: '4',
    },
  });
});
afterAll(async () => {
  await host?.stop();
});

const post = (route: string) => request(`${host.url}${route}`, { method: 'POST' });
const put = (route: string, headers: Record<string, string> = ADMIN, body?: string) =>
  request(`${host.url}${route}`, {
    method: 'PUT',
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body,
  });
const namedFile = (name: string, file = 'data.bin') =>
  path.join(host.dataDir, 'counters', name, file);
/** Everything in the data directory, as relative paths, to prove a request created nothing. */
const tree = (dir = host.dataDir, prefix = ''): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? tree(path.join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );

describe('GET, POST /increment and /decrement with a name', () => {
  it('reads a never-changed name as 0 and creates nothing', async () => {
    const before = tree();
    const reply = await request(`${host.url}/get/never-changed`);
    expect(reply.json()).toEqual({ value: 0 });
    expect(tree()).toEqual(before);
  });

  it('keeps a named counter in counters/<name>/data.bin, apart from the default counter', async () => {
    writeFileSync(path.join(host.dataDir, 'data.bin'), '100');
    expect((await post('/increment/visits?by=5')).json()).toEqual({ value: 5 });
    expect((await post('/decrement/visits')).json()).toEqual({ value: 4 });
    expect(readFileSync(namedFile('visits'), 'latin1')).toBe('4');
    expect((await request(`${host.url}/get`)).json()).toEqual({ value: 100 });
    expect(readFileSync(path.join(host.dataDir, 'data.bin'), 'latin1')).toBe('100');
  });

  it('folds upper case, so /get/VISITS reads counters/visits', async () => {
    await post('/increment/Visits');
    expect((await request(`${host.url}/get/VISITS`)).json()).toEqual({ value: 5 });
    expect(existsSync(path.join(host.dataDir, 'counters', 'Visits'))).toBe(false);
  });

  it.each([
    '/increment/..%2F..%2Fdata.bin',
    '/increment/a%2Eb',
    '/increment/a%2Fb',
    '/increment/a%5Cb',
    '/increment/a%00b',
    '/increment/%E2%84%AAelvin',
    '/increment/con',
    '/increment/-lead',
    `/increment/${'x'.repeat(65)}`,
  ])('answers 400 naming the rule to POST %s, and creates nothing', async (route) => {
    const before = tree();
    const reply = await post(route);
    expect(reply.status).toBe(400);
    expect(reply.json()).toEqual({ error: expect.stringMatching(/counter name|device name/) });
    expect(tree()).toEqual(before);
  });

  it('answers 507 when a change would create one counter more than COUNTER_MAX_NAMED', async () => {
    // visits exists; fill the cap of 4 with three more.
    for (const name of ['cap-1', 'cap-2', 'cap-3']) {
      expect((await post(`/increment/${name}`)).status).toBe(200);
    }
    const reply = await post('/increment/cap-4');
    expect(reply.status).toBe(507);
    expect(reply.json()).toEqual({ error: expect.stringMatching(/COUNTER_MAX_NAMED \(4\)/) });
    expect(existsSync(namedFile('cap-4'))).toBe(false);
    expect((await post('/increment/cap-1')).json()).toEqual({ value: 2 });
  });
});

describe('PUT /set', () => {
  it('answers 401 without the admin key, and with a wrong one, changing nothing', async () => {
    const noKey: Record<string, string> = {};
    for (const headers of [noKey, { authorization: 'Bearer wrong' }]) {
      const reply = await put('/set/visits?value=7', headers);
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect((await request(`${host.url}/get/visits`)).json()).toEqual({ value: 5 });
  });

  it('sets a named counter exactly with the admin key, beyond 2^53', async () => {
    const reply = await put('/set/visits', ADMIN, '{"value": -9223372036854775808}');
    expect(reply.text).toBe('{"value":-9223372036854775808}');
    expect(readFileSync(namedFile('visits'), 'latin1')).toBe('-9223372036854775808');
    expect((await post('/increment/visits')).text).toBe('{"value":-9223372036854775807}');
  });

  it('resets the default counter to 0', async () => {
    expect((await put('/set?value=0')).json()).toEqual({ value: 0 });
    expect(readFileSync(path.join(host.dataDir, 'data.bin'), 'latin1')).toBe('0');
  });

  it('answers 400 to a missing value', async () => {
    expect((await put('/set/visits')).status).toBe(400);
  });

  it('answers 403 on a host with no COUNTER_ADMIN_KEY, even with a key', async () => {
    const open = await startHost({ env: { BACKUP_SCHEDULE: NO_BACKUPS, LOG_LEVEL: 'warning' } });
    try {
      const reply = await request(`${open.url}/set?value=5`, { method: 'PUT', headers: ADMIN });
      expect(reply.status).toBe(403);
      expect(existsSync(path.join(open.dataDir, 'data.bin'))).toBe(false);
    } finally {
      await open.stop();
    }
  });
});

describe('GET /openapi.json', () => {
  it('serves the document the tests check answers against', async () => {
    const reply = await request(`${host.url}/openapi.json`);
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual(openApiDocument);
  });
});

describe('the backup timer with named counters', () => {
  it('backs up every named counter changed since its previous run', async () => {
    const timed = await startHost({
      env: { BACKUP_SCHEDULE: '*/1 * * * * *', LOG_LEVEL: 'information' },
    });
    try {
      for (const name of ['alpha', 'beta']) {
        await request(`${timed.url}/increment/${name}?by=3`, { method: 'POST' });
      }
      // A run may fall between the two changes and take one of them, the next run the other;
      // either way, within a few runs each counter has its backup.
      const backupOf = (name: string) => path.join(timed.dataDir, 'counters', name, 'backup.bin');
      const backedUp = () =>
        ['alpha', 'beta'].every(
          (name) => existsSync(backupOf(name)) && readFileSync(backupOf(name), 'latin1') === '3',
        );
      for (let waited = 0; !backedUp() && waited < 15_000; waited += 100) await sleep(100);
      expect(['alpha', 'beta'].map((name) => readFileSync(backupOf(name), 'latin1'))).toEqual([
        '3',
        '3',
      ]);
      // The run logs once its files are written, and its line reaches us through a pipe: on a
      // busy machine, after the files do.
      const namedBackedUp = () =>
        [...timed.logs().matchAll(/and (\d+) named counter\(s\) changed/g)].reduce(
          (sum, [, count]) => sum + Number(count),
          0,
        );
      for (let waited = 0; namedBackedUp() < 2 && waited < 15_000; waited += 100) await sleep(100);
      expect(namedBackedUp()).toBeGreaterThanOrEqual(2);
    } finally {
      await timed.stop();
    }
  });
});
