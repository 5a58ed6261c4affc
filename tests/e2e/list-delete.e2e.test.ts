import { existsSync } from 'node:fs';
import path from 'node:path';
import { conformantRequest as request } from '../openapi-conformance';
import { type HostProcess, startHost } from '../support/host-process';
import { openEventStream } from '../support/sse';

// GET /counters and DELETE /counters/{name} through the offline host, over HTTP, with the
// catch-all's answers around them. Every answer is checked against openapi.json.

const NO_BACKUPS = '0 0 0 1 1 *';
const ADMIN = { authorization: 'Bearer admin-e2e-key' };

let host: HostProcess;

beforeAll(async () => {
  host = await startHost({
    env: {
      BACKUP_SCHEDULE: NO_BACKUPS,
      LOG_LEVEL: 'information',
      COUNTER_ADMIN_KEY: 'admin-e2e-key',
    },
  });
  for (const [name, by] of [
    ['page-home', '3'],
    ['page-about', '9007199254740993'],
    ['visits', '1'],
  ]) {
    expect(
      (await request(`${host.url}/increment/${name}?by=${by}`, { method: 'POST' })).status,
    ).toBe(200);
  }
});
afterAll(async () => {
  await host?.stop();
});

const deleteNamed = (name: string, headers: Record<string, string> = ADMIN) =>
  request(`${host.url}/counters/${name}`, { method: 'DELETE', headers });

describe('GET /counters', () => {
  it('lists the counters by name, values exact beyond 2^53', async () => {
    const reply = await request(`${host.url}/counters`);
    expect(reply.text).toBe(
      '{"counters":[{"name":"page-about","value":9007199254740993},{"name":"page-home","value":3},{"name":"visits","value":1}],"next":null}',
    );
  });

  it('pages with limit and after, and filters by prefix', async () => {
    expect((await request(`${host.url}/counters?limit=1&prefix=page-`)).text).toBe(
      '{"counters":[{"name":"page-about","value":9007199254740993}],"next":"page-about"}',
    );
    expect(
      (await request(`${host.url}/counters?limit=1&prefix=page-&after=page-about`)).json(),
    ).toEqual({ counters: [{ name: 'page-home', value: 3 }], next: null });
  });

  it('answers 400 to a limit over 1000', async () => {
    expect((await request(`${host.url}/counters?limit=1001`)).status).toBe(400);
  });

  it('answers OPTIONS with 204 and Allow, and POST with 405', async () => {
    const options = await request(`${host.url}/counters`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('GET, OPTIONS');
    expect((await request(`${host.url}/counters`, { method: 'POST' })).status).toBe(405);
  });
});

describe('DELETE /counters/{name}', () => {
  it('answers 401 without the admin key, deleting nothing', async () => {
    expect((await deleteNamed('visits', {})).status).toBe(401);
    expect(existsSync(path.join(host.dataDir, 'counters', 'visits'))).toBe(true);
  });

  it('deletes a counter, answering the value it held, with one log line', async () => {
    const reply = await deleteNamed('visits');
    expect(reply.json()).toEqual({ name: 'visits', value: 1 });
    expect(existsSync(path.join(host.dataDir, 'counters', 'visits'))).toBe(false);
    await host.waitForLog(/deleted "visits", which held 1/);
    expect(host.logs().match(/deleted "/g)).toHaveLength(1);
    expect((await request(`${host.url}/get/visits`)).json()).toEqual({ value: 0 });
  });

  it('shows 0 to the watchers of the counter, in this host and in another on the directory', async () => {
    const other = await startHost({
      dataDir: host.dataDir,
      env: { BACKUP_SCHEDULE: NO_BACKUPS, LOG_LEVEL: 'warning', SHUTDOWN_TIMEOUT_MS: '1000' },
    });
    const here = await openEventStream(`${host.url}/watch/page-home`);
    const there = await openEventStream(`${other.url}/watch/page-home`);
    try {
      expect(await here.sse.nextValue()).toBe('3');
      expect(await there.sse.nextValue()).toBe('3');
      expect((await deleteNamed('page-home')).json()).toEqual({ name: 'page-home', value: 3 });
      expect(await here.sse.nextValue()).toBe('0');
      expect(await there.sse.nextValue()).toBe('0');
      await request(`${host.url}/increment/page-home`, { method: 'POST' });
      expect(await here.sse.nextValue()).toBe('1');
      expect(await there.sse.nextValue()).toBe('1');
    } finally {
      here.close();
      there.close();
      await other.stop();
    }
  });

  it('answers 404 JSON for a counter that does not exist', async () => {
    const reply = await deleteNamed('never-made');
    expect(reply.status).toBe(404);
    expect(reply.json()).toEqual({ error: expect.stringContaining('never-made') });
  });

  it('answers DELETE /counters, the default counter, with 405 pointing to PUT /set', async () => {
    const reply = await request(`${host.url}/counters`, { method: 'DELETE', headers: ADMIN });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET, OPTIONS');
    expect(reply.json()).toEqual({ error: expect.stringContaining('reset it with PUT /set') });
  });

  it('answers GET on a counter path with 405 and Allow: DELETE, OPTIONS', async () => {
    const reply = await request(`${host.url}/counters/page-home`);
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('DELETE, OPTIONS');
  });
});

describe('what a new user of the API ran into (issue 20)', () => {
  it('answers a bare JSON number as the body with a 400 saying the body must be an object', async () => {
    const reply = await request(`${host.url}/increment/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '5',
    });
    expect(reply.status).toBe(400);
    expect(reply.json()).toEqual({
      error: 'the body must be a JSON object such as {"by": 5}, not a bare number',
    });
  });

  it('logs no healing warning when a named counter is created', async () => {
    expect(host.logs()).not.toMatch(/was missing/);
  });

  it('answers 404 JSON to OPTIONS where nothing is served', async () => {
    expect((await request(`${host.url}/nothing-here`, { method: 'OPTIONS' })).status).toBe(404);
  });
});
