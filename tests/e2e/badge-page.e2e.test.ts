import { XMLValidator } from 'fast-xml-parser';
import { conformantRequest as request } from '../openapi-conformance';
import { type HostProcess, startHost } from '../support/host-process';

// GET /badge and GET / through the offline host, over HTTP; every answer is checked against
// openapi.json.

const NO_BACKUPS = '0 0 0 1 1 *';
let host: HostProcess;
let hitsHost: HostProcess;

beforeAll(async () => {
  const env = { BACKUP_SCHEDULE: NO_BACKUPS, LOG_LEVEL: 'warning' };
  [host, hitsHost] = await Promise.all([
    startHost({ env }),
    startHost({ env: { ...env, COUNTER_PUBLIC_HITS: 'true' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([host?.stop(), hitsHost?.stop()]);
});

describe('GET /badge/{name?}', () => {
  it('answers a well-formed SVG badge of the value with Cache-Control: no-cache', async () => {
    await request(`${host.url}/increment/readme?by=1234`, { method: 'POST' });
    const reply = await request(
      `${host.url}/badge/readme?label=views&color=green&style=flat-square`,
    );
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(reply.headers['cache-control']).toBe('no-cache');
    expect(XMLValidator.validate(reply.text)).toBe(true);
    expect(reply.text).toContain('>1234<');
    expect(reply.text).toContain('>views<');
  });

  it('answers 400 with a JSON error for a bad parameter', async () => {
    for (const query of ['color=chartreuse-ish', 'style=round', `label=${'x'.repeat(65)}`]) {
      const reply = await request(`${host.url}/badge?${query}`);
      expect(reply.status).toBe(400);
      expect(reply.json()).toEqual({ error: expect.any(String) });
    }
  });

  it('answers ?hit with 403 unless COUNTER_PUBLIC_HITS=true, and counts nothing', async () => {
    expect((await request(`${host.url}/badge/visits?hit=1`)).status).toBe(403);
    expect((await request(`${host.url}/get/visits`)).json()).toEqual({ value: 0 });
  });

  it('counts one visit per ?hit=1 with COUNTER_PUBLIC_HITS=true', async () => {
    expect((await request(`${hitsHost.url}/badge/visits?hit=1`)).text).toContain('>1<');
    expect((await request(`${hitsHost.url}/badge/visits?hit=1`)).text).toContain('>2<');
    expect((await request(`${hitsHost.url}/badge/visits`)).text).toContain('>2<');
    expect((await request(`${hitsHost.url}/get/visits`)).json()).toEqual({ value: 2 });
  });
});

describe('GET /', () => {
  it('serves the page', async () => {
    const reply = await request(`${host.url}/`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
    expect(reply.text).toContain('<title>Rusty-Counter</title>');
  });

  it('leaves other paths to the functions that serve them', async () => {
    const wrongMethod = await request(`${host.url}/increment`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.json()).toEqual({ error: expect.stringContaining('POST') });
  });
});
