import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { isCounterName } from '../../shared/counter-name';
import { mountTmpfs, tempDir } from '../support/temp-dir';
import { CounterClient, valueOf } from './support/counter-client';
import { reportFigures } from './support/figures';
import { hostileName, snapshot } from './support/hostile-names';
import { HostGroup } from './support/hosts';
import { rawExchange } from './support/raw-http';

// The reliability suites again, across several named counters at once: many writers on
// several hosts, SIGKILL, corruption, a full disk, and hostile names.

jest.setTimeout(120_000);

const ADMIN_KEY = 'reliability-admin';
const DEFAULT = '';
type CounterId = string; // '' is the default counter

let client: CounterClient;
let sandbox: { dir: string; remove: () => void };
beforeEach(() => {
  client = new CounterClient();
  sandbox = tempDir('named-reliability-');
});
afterEach(() => {
  client.close();
  sandbox.remove();
});

const routeOf = (kind: 'increment' | 'decrement' | 'get', id: CounterId) =>
  id === DEFAULT ? `/${kind}` : `/${kind}/${id}`;
const fileOf = (dataDir: string, id: CounterId, file = 'data.bin') =>
  id === DEFAULT ? path.join(dataDir, file) : path.join(dataDir, 'counters', id, file);

async function read(url: string, id: CounterId): Promise<bigint> {
  const reply = await client.send(`${url}${routeOf('get', id)}`);
  const value = valueOf(reply.text);
  if (reply.status !== 200 || value === undefined) {
    throw new Error(`GET ${routeOf('get', id)} answered ${reply.status} ${reply.text}`);
  }
  return value;
}

interface Increment {
  id: CounterId;
  status?: number;
  value?: bigint;
}

/**
 * Sends `total` increments by 1, `concurrency` at a time, each to a random host and counter;
 * a failed connection (a killed host) is recorded without a status.
 */
async function incrementMany(
  urls: () => string[],
  ids: CounterId[],
  total: number,
  concurrency: number,
  during?: (sent: number) => Promise<void>,
): Promise<Increment[]> {
  const records: Increment[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      const n = sent++;
      if (during) await during(n);
      const id = ids[n % ids.length];
      const hosts = urls();
      const url = hosts[Math.floor(Math.random() * hosts.length)];
      try {
        const reply = await client.send(`${url}${routeOf('increment', id)}`, { method: 'POST' });
        records.push({ id, status: reply.status, value: valueOf(reply.text) });
      } catch {
        records.push({ id });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return records;
}

const sortedValues = (records: Increment[], id: CounterId) =>
  records
    .filter((r) => r.id === id && r.status === 200 && r.value !== undefined)
    .map((r) => r.value as bigint)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

const NAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
const ALL: CounterId[] = [...NAMES, DEFAULT];

describe('many writers on several named counters', () => {
  it('four hosts changing five named counters and the default one end with exact totals and distinct values per counter', async () => {
    const dataDir = path.join(sandbox.dir, 'data');
    const group = await HostGroup.start(4, { dataDir });
    try {
      const records = await incrementMany(() => group.urls, ALL, 1800, 32);
      expect(records.filter((r) => r.status !== 200)).toEqual([]);
      for (const id of ALL) {
        const mine = records.filter((r) => r.id === id).length;
        // Increments by 1 from 0: the answers are exactly 1..n, each once.
        expect(sortedValues(records, id)).toEqual(
          Array.from({ length: mine }, (_, i) => BigInt(i + 1)),
        );
        expect(await read(group.urls[0], id)).toBe(BigInt(mine));
        expect(readFileSync(fileOf(dataDir, id), 'latin1')).toBe(String(mine));
      }
      reportFigures(
        `named many-writers: 1800 increments over 4 hosts and ${ALL.length} counters, exact`,
      );
    } finally {
      await group.stopAll();
    }
  });
});

describe('the cap on named counters across processes', () => {
  it('lets four hosts creating 40 counters at once create exactly COUNTER_MAX_NAMED of them', async () => {
    const dataDir = path.join(sandbox.dir, 'data');
    const group = await HostGroup.start(4, { dataDir, env: { COUNTER_MAX_NAMED: '10' } });
    try {
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          client.send(`${group.urls[i % 4]}/increment/new-${i}`, { method: 'POST' }),
        ),
      );
      const statuses = replies.map((reply) => reply.status).sort();
      expect(statuses).toEqual([...Array(10).fill(200), ...Array(30).fill(507)]);
      const created = readdirSync(path.join(dataDir, 'counters')).filter((n) => !n.startsWith('.'));
      expect(created).toHaveLength(10);
      // Exactly the counters that were answered 200 exist, each at 1.
      for (const name of created) expect(readFileSync(fileOf(dataDir, name), 'latin1')).toBe('1');
    } finally {
      await group.stopAll();
    }
  });
});

describe('SIGKILL across named counters', () => {
  it('loses no acknowledged change on any counter when a host is killed mid-load', async () => {
    const dataDir = path.join(sandbox.dir, 'data');
    const group = await HostGroup.start(2, { dataDir });
    try {
      let killed = false;
      const records = await incrementMany(
        () => group.urls,
        ALL,
        900,
        16,
        async (n) => {
          if (n === 300 && !killed) {
            killed = true;
            await group.restart(0);
          }
        },
      );
      for (const id of ALL) {
        const acked = sortedValues(records, id);
        const attempted = records.filter((r) => r.id === id).length;
        const final = await read(group.urls[1], id);
        // Every acknowledged change is in the final value; unanswered ones may or may not be.
        expect(new Set(acked).size).toBe(acked.length);
        expect(final).toBeGreaterThanOrEqual(BigInt(acked.length));
        expect(final).toBeLessThanOrEqual(BigInt(attempted));
        expect(acked[acked.length - 1] ?? 0n).toBeLessThanOrEqual(final);
        expect(readFileSync(fileOf(dataDir, id), 'latin1')).toBe(String(final));
      }
    } finally {
      await group.stopAll();
    }
  });
});

describe('corruption of named counters', () => {
  it('heals each damaged counter from its own backup, and leaves the others alone', async () => {
    const dataDir = path.join(sandbox.dir, 'data');
    const group = await HostGroup.start(1, { dataDir, env: { COUNTER_ADMIN_KEY: ADMIN_KEY } });
    const [url] = group.urls;
    try {
      for (const [i, id] of NAMES.entries()) {
        await client.send(`${url}${routeOf('increment', id)}?by=${i + 10}`, { method: 'POST' });
      }
      // alpha: corrupt data with a good backup; beta: both corrupt; gamma: data missing.
      writeFileSync(fileOf(dataDir, 'alpha', 'backup.bin'), '7');
      writeFileSync(fileOf(dataDir, 'alpha'), '12abc');
      writeFileSync(fileOf(dataDir, 'beta', 'backup.bin'), '\u00a05');
      writeFileSync(fileOf(dataDir, 'beta'), Buffer.alloc(200, 0x41));
      writeFileSync(fileOf(dataDir, 'gamma', 'backup.bin'), '-3');
      rmSync(fileOf(dataDir, 'gamma'));

      expect(await read(url, 'alpha')).toBe(7n);
      expect(await read(url, 'beta')).toBe(0n);
      expect(await read(url, 'gamma')).toBe(-3n);
      expect(await read(url, 'delta')).toBe(13n);
      expect(await read(url, 'epsilon')).toBe(14n);
      const aside = (id: string) =>
        readdirSync(path.join(dataDir, 'counters', id)).filter((n) => n.includes('.corrupt-'));
      expect(aside('alpha')).toHaveLength(1);
      expect(aside('beta')).toHaveLength(2);
      expect(aside('delta')).toHaveLength(0);
      await group.hosts[0].waitForLog(/data\.bin was corrupt .*restored 7 from backup\.bin/);
    } finally {
      await group.stopAll();
    }
  });
});

describe('a full disk under several named counters', () => {
  it('answers 503 to changes of every counter while the disk is full, keeps every value, and recovers exactly', async () => {
    const tmpfs = mountTmpfs(256);
    const group = await HostGroup.start(1, { dataDir: tmpfs.dir });
    const [url] = group.urls;
    try {
      for (const id of ALL) {
        await client.send(`${url}${routeOf('increment', id)}?by=5`, { method: 'POST' });
      }
      const filler = path.join(tmpfs.dir, 'filler');
      try {
        for (;;) writeFileSync(filler, Buffer.alloc(64 * 1024), { flag: 'a' });
      } catch {
        // ENOSPC: the disk is full.
      }
      for (const id of ALL) {
        const reply = await client.send(`${url}${routeOf('increment', id)}`, { method: 'POST' });
        expect({ id, status: reply.status }).toEqual({ id, status: 503 });
        expect(reply.headers['retry-after']).toMatch(/^[0-9]+$/);
        expect(await read(url, id)).toBe(5n);
      }
      // A name first changed on the full disk is refused too, and starts from 0 later.
      const fresh = await client.send(`${url}/increment/fresh`, { method: 'POST' });
      expect(fresh.status).toBe(503);
      rmSync(filler);
      expect((await client.send(`${url}/increment/fresh`, { method: 'POST' })).text).toBe(
        '{"value":1}',
      );
      for (const id of ALL) {
        const reply = await client.send(`${url}${routeOf('increment', id)}`, { method: 'POST' });
        expect(reply.text).toBe('{"value":6}');
      }
    } finally {
      await group.stopAll();
      tmpfs.unmount();
    }
  });
});

// ---- Hostile names: nothing outside counters/ is ever touched.

describe('hostile names', () => {
  it('never touches anything outside counters/, whatever the name and its encoding', async () => {
    const dataDir = path.join(sandbox.dir, 'app', 'data');
    mkdirSync(dataDir, { recursive: true });
    // Bait a traversal could reach: beside the data directory and above it.
    writeFileSync(path.join(sandbox.dir, 'app', 'outside'), 'keep');
    writeFileSync(path.join(sandbox.dir, 'outside'), 'keep');
    writeFileSync(path.join(dataDir, 'data.bin'), '1000');
    const outsideBefore = snapshot(sandbox.dir).filter((p) => !p.startsWith('app/data/'));
    const group = await HostGroup.start(1, { dataDir, env: { COUNTER_ADMIN_KEY: ADMIN_KEY } });
    const { port } = group.hosts[0];
    const statuses = new Map<number, number>();
    let runs = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          hostileName,
          fc.constantFrom('POST /increment', 'POST /decrement', 'GET /get', 'PUT /set'),
          async (name, route) => {
            runs++;
            const [method, pathname] = route.split(' ');
            const query = method === 'PUT' ? '?value=5' : '';
            const head = `${method} ${pathname}/${name}${query} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
            const reply = await rawExchange(port, [Buffer.from(head, 'latin1')]);
            statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
            expect({ name, status: reply.status, serverError: reply.status >= 500 }).toEqual({
              name,
              status: reply.status,
              serverError: false,
            });
          },
        ),
        { numRuns: 600 },
      );

      // The case pairs are one counter, and no spelling of a reserved name became one.
      expect(snapshot(sandbox.dir).filter((p) => !p.startsWith('app/data/'))).toEqual(
        outsideBefore,
      );
      const created = existsSync(path.join(dataDir, 'counters'))
        ? readdirSync(path.join(dataDir, 'counters')).filter((n) => !n.startsWith('.'))
        : [];
      for (const name of created)
        expect({ name, valid: isCounterName(name) }).toEqual({ name, valid: true });
      expect(created.filter((n) => n.toLowerCase() === 'pair').length).toBeLessThanOrEqual(1);
      const atRoot = readdirSync(dataDir).filter(
        (n) => !['counters', 'data.bin', 'backup.bin', '.counter.lock'].includes(n),
      );
      expect(atRoot).toEqual([]);
      reportFigures(
        `hostile names: ${runs} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${created.length} counters created`,
      );
    } finally {
      await group.stopAll();
    }
  });
});
