import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { badge } from '../../functions/badge';
import { increment } from '../../functions/increment';
import { resetServices } from '../../shared/services';
import { callHandler } from '../support/call-handler';
import { tempDir } from '../support/temp-dir';

let dir: string;
let remove: () => void;

beforeEach(() => {
  ({ dir, remove } = tempDir());
  process.env.COUNTER_DATA_DIR = dir;
  process.env.COUNTER_CONFIG_FILE = path.join(dir, 'no-config.json');
  delete process.env.COUNTER_PUBLIC_HITS;
  delete process.env.COUNTER_READ_KEY;
  delete process.env.COUNTER_WRITE_KEY;
  resetServices();
});
afterEach(() => {
  delete process.env.COUNTER_PUBLIC_HITS;
  delete process.env.COUNTER_READ_KEY;
  remove();
});

const dataOf = (name: string) =>
  readFileSync(path.join(dir, 'counters', name, 'data.bin'), 'latin1');

describe('GET /badge/{name?}', () => {
  it('answers an SVG of the value that caches must revalidate', async () => {
    await callHandler(increment, { method: 'POST', name: 'visits', query: '?by=41' });
    const reply = await callHandler(badge, { name: 'visits' });
    expect(reply.status).toBe(200);
    expect(reply.header('content-type')).toMatch(/^image\/svg\+xml/);
    expect(reply.header('cache-control')).toBe('no-cache');
    expect(XMLValidator.validate(reply.text)).toBe(true);
    expect(reply.text).toContain('>41<');
    expect(reply.text).toContain('>visits<');
  });

  // A badge is embedded on other people's pages: a browser must never sniff it into HTML.
  it('forbids content sniffing, so a badge is only ever read as an image', async () => {
    const reply = await callHandler(badge, { name: 'visits' });
    expect(reply.header('x-content-type-options')).toBe('nosniff');
  });

  it('labels the default counter "counter" unless a label is given', async () => {
    expect((await callHandler(badge)).text).toContain('>counter<');
    expect((await callHandler(badge, { query: '?label=hits' })).text).toContain('>hits<');
  });

  it('answers 400 for a bad colour, style or name', async () => {
    for (const query of ['?color=nope', '?style=round']) {
      const reply = await callHandler(badge, { query });
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.text)).toEqual({ error: expect.any(String) });
    }
    expect((await callHandler(badge, { name: 'no/slash' })).status).toBe(400);
  });

  it('refuses ?hit with 403 and changes nothing unless COUNTER_PUBLIC_HITS is on', async () => {
    const reply = await callHandler(badge, { name: 'visits', query: '?hit=1' });
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.text).error).toMatch(/COUNTER_PUBLIC_HITS/);
    expect((await callHandler(badge, { name: 'visits' })).text).toContain('>0<');
  });

  it('counts a hit before drawing when COUNTER_PUBLIC_HITS is on, even with keys configured', async () => {
    process.env.COUNTER_PUBLIC_HITS = 'true';
    process.env.COUNTER_WRITE_KEY = 'writer';
    resetServices();
    expect((await callHandler(badge, { name: 'visits', query: '?hit=1' })).text).toContain('>1<');
    expect((await callHandler(badge, { name: 'visits', query: '?hit=1' })).text).toContain('>2<');
    expect(dataOf('visits')).toBe('2');
  });

  it('draws nothing and counts nothing when a hit comes with a bad parameter', async () => {
    process.env.COUNTER_PUBLIC_HITS = 'true';
    resetServices();
    expect((await callHandler(badge, { name: 'visits', query: '?hit=1&style=x' })).status).toBe(
      400,
    );
    expect((await callHandler(badge, { name: 'visits', query: '?hit=yes' })).status).toBe(400);
    expect((await callHandler(badge, { name: 'visits' })).text).toContain('>0<');
  });

  it('needs the read key (or the write key) to draw a value when one is configured', async () => {
    process.env.COUNTER_READ_KEY = 'reader';
    resetServices();
    expect((await callHandler(badge)).status).toBe(401);
    const withKey = await callHandler(badge, { headers: { authorization: 'Bearer reader' } });
    expect(withKey.status).toBe(200);
  });
});
