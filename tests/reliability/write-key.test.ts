import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { tempDir } from '../support/temp-dir';
import { CounterClient, valueOf, type Reply } from './support/counter-client';
import { reportFigures } from './support/figures';
import { HostGroup } from './support/hosts';

jest.setTimeout(60_000);

const AUTH_RUNS = 100;
const WRITE_KEY = `w-${randomBytes(16).toString('hex')}`;
const READ_KEY = `r-${randomBytes(16).toString('hex')}`;

let client: CounterClient;
beforeAll(() => {
  client = new CounterClient();
});
let refusedAuthorizations = 0;
afterAll(() => {
  client.close();
  reportFigures(
    `write/read keys: ${refusedAuthorizations} wrong Authorization values refused with 401, the keys in no log line`,
  );
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function expectUnauthorized(reply: Reply): void {
  refusedAuthorizations += 1;
  expect(reply.status).toBe(401);
  expect(reply.headers['www-authenticate']).toMatch(/^Bearer\b/);
  expect(JSON.parse(reply.text)).toEqual({ error: expect.stringMatching(/Authorization/) });
}

/** Authorization headers that must not pass for `key`: near misses and other schemes. */
const wrongAuthorizations = (key: string): Array<Record<string, string>> => [
  {},
  { authorization: '' },
  { authorization: 'Bearer' },
  { authorization: 'Bearer ' },
  { authorization: key },
  { authorization: `Basic ${Buffer.from(`user:${key}`).toString('base64')}` },
  { authorization: `Token ${key}` },
  bearer(key.slice(0, -1)),
  bearer(`${key}x`),
  bearer(key.toUpperCase()),
  bearer(`${key} ${key}`),
  bearer(`"${key}"`),
  { 'x-functions-key': key },
];

describe('COUNTER_WRITE_KEY over HTTP', () => {
  const scratch = tempDir('rusty-counter-key-');
  let group: HostGroup;
  let url: string;
  beforeAll(async () => {
    // The most talkative log level: if anything logged headers, the key would show.
    group = await HostGroup.start(1, {
      dataDir: scratch.dir,
      env: { COUNTER_WRITE_KEY: WRITE_KEY, LOG_LEVEL: 'trace' },
    });
    url = group.urls[0];
  });
  afterAll(async () => {
    await group?.stopAll();
    scratch.remove();
  });

  it.each(['increment', 'decrement'])(
    'answers POST /%s without the key with 401 and WWW-Authenticate, changing nothing',
    async (route) => {
      const before = await client.get(url);
      for (const headers of wrongAuthorizations(WRITE_KEY)) {
        expectUnauthorized(await client.send(`${url}/${route}?by=5`, { method: 'POST', headers }));
      }
      await expect(client.get(url)).resolves.toBe(before);
    },
  );

  it('changes the counter with the key, and leaves reads open', async () => {
    const before = await client.get(url);
    const reply = await client.send(`${url}/increment?by=5`, {
      method: 'POST',
      headers: bearer(WRITE_KEY),
    });
    expect({ status: reply.status, value: valueOf(reply.text) }).toEqual({
      status: 200,
      value: before + 5n,
    });
    const lowercaseScheme = await client.send(`${url}/decrement`, {
      method: 'POST',
      headers: { authorization: `bearer ${WRITE_KEY}` },
    });
    expect(valueOf(lowercaseScheme.text)).toBe(before + 4n);
    expect((await client.send(`${url}/get`)).status).toBe(200);
  });

  it(`lets no other Authorization value (${AUTH_RUNS} generated) change the counter`, async () => {
    const before = await client.get(url);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
          fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
          fc.string({ maxLength: 4 }).map((s) => `Bearer ${WRITE_KEY}${s}`),
        ),
        async (authorization) => {
          fc.pre(authorization.trim() !== `Bearer ${WRITE_KEY}`);
          const headers: Record<string, string> = /^[\t\x20-\x7e]*$/.test(authorization)
            ? { authorization }
            : {};
          expectUnauthorized(await client.send(`${url}/increment`, { method: 'POST', headers }));
        },
      ),
      { numRuns: AUTH_RUNS },
    );
    await expect(client.get(url)).resolves.toBe(before);
  });

  it('never writes the key to the log', () => {
    expect(group.logs()).toMatch(/POST \/increment/);
    expect(group.logs()).not.toContain(WRITE_KEY);
  });
});

describe('COUNTER_READ_KEY over HTTP', () => {
  const scratch = tempDir('rusty-counter-key-');
  let group: HostGroup;
  let url: string;
  beforeAll(async () => {
    group = await HostGroup.start(1, {
      dataDir: scratch.dir,
      env: { COUNTER_WRITE_KEY: WRITE_KEY, COUNTER_READ_KEY: READ_KEY, LOG_LEVEL: 'trace' },
    });
    url = group.urls[0];
  });
  afterAll(async () => {
    await group?.stopAll();
    scratch.remove();
  });

  it('answers GET /get without the read key with 401 and WWW-Authenticate', async () => {
    for (const headers of wrongAuthorizations(READ_KEY)) {
      expectUnauthorized(await client.send(`${url}/get`, { headers }));
    }
    const reply = await client.send(`${url}/get`, { headers: bearer(READ_KEY) });
    expect(reply.status).toBe(200);
    expect(valueOf(reply.text)).toBeDefined();
  });

  it('keeps /health open for probes, showing no value', async () => {
    const reply = await client.send(`${url}/health`);
    expect(reply.status).toBe(200);
    expect(reply.text).not.toMatch(/value"\s*:\s*-?[0-9]/);
  });

  it('never writes either key to the log', () => {
    expect(group.logs()).toMatch(/GET \/get/);
    expect(group.logs()).not.toContain(WRITE_KEY);
    expect(group.logs()).not.toContain(READ_KEY);
  });
});
