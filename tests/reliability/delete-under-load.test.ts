import { performance } from 'node:perf_hooks';
import { tempDir } from '../support/temp-dir';
import { CounterClient, valueOf } from './support/counter-client';
import { reportFigures } from './support/figures';
import { HostGroup } from './support/hosts';

// Four replicas on one directory increment, read and delete the same few named counters at
// once. Every increment adds 1, so a counter's life from its creation to its delete is
// gapless: its increments answer 1, 2, ... up to the value its delete answers. Whatever the
// order the hosts took, the answers must add up lifetime by lifetime.

jest.setTimeout(120_000);

const HOSTS = 4;
const NAMES = ['red', 'green', 'blue'];
const OPERATIONS = 1800;
const CONCURRENCY = 48;
const ADMIN_KEY = 'delete-load-admin';

type Kind = 'increment' | 'get' | 'delete';

interface Op {
  kind: Kind;
  name: string;
  startedAt: number;
  endedAt: number;
  status: number;
  /** The value answered: after an increment, read, or held when deleted. */
  value?: bigint;
  text: string;
}

let scratch: ReturnType<typeof tempDir>;
let group: HostGroup;
let client: CounterClient;

beforeAll(async () => {
  scratch = tempDir('rusty-counter-delete-load-');
  group = await HostGroup.start(HOSTS, {
    dataDir: scratch.dir,
    env: { COUNTER_ADMIN_KEY: ADMIN_KEY, BACKUP_SCHEDULE: '* * * * * *' },
  });
  client = new CounterClient();
});
afterAll(async () => {
  client?.close();
  await group?.stopAll();
  scratch?.remove();
});

// One delete in twelve operations, one read in four: lifetimes of a dozen or so changes.
const kindOf = (n: number): Kind => (n % 12 === 5 ? 'delete' : n % 4 === 1 ? 'get' : 'increment');

async function send(n: number): Promise<Op> {
  const kind = kindOf(n);
  const name = NAMES[Math.floor(n / 7) % NAMES.length];
  const url = group.urls[n % HOSTS];
  const startedAt = performance.now();
  const reply =
    kind === 'increment'
      ? await client.send(`${url}/increment/${name}`, { method: 'POST' })
      : kind === 'get'
        ? await client.send(`${url}/get/${name}`)
        : await client.send(`${url}/counters/${name}`, {
            method: 'DELETE',
            headers: { authorization: `Bearer ${ADMIN_KEY}` },
          });
  const endedAt = performance.now();
  const value =
    kind === 'delete'
      ? /^\{"name":"[a-z]+","value":(-?[0-9]+)\}$/.exec(reply.text)?.[1]
      : valueOf(reply.text)?.toString();
  return {
    kind,
    name,
    startedAt,
    endedAt,
    status: reply.status,
    value: value === undefined ? undefined : BigInt(value),
    text: reply.text,
  };
}

describe(`${HOSTS} hosts incrementing, reading and deleting ${NAMES.length} counters at once`, () => {
  it('account for every change lifetime by lifetime, and never bring back a deleted value', async () => {
    const ops: Op[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < OPERATIONS) ops.push(await send(next++));
      }),
    );

    const unexpected = ops.filter(
      (op) => !(op.status === 200 || (op.kind === 'delete' && op.status === 404)),
    );
    const errorLines = group
      .logs()
      .split('\n')
      .filter((line) => /error|exception|unexpected/i.test(line))
      .slice(0, 10);
    expect({
      unexpected: unexpected.slice(0, 5).map((op) => `${op.kind} ${op.status} ${op.text}`),
      errorLines,
    }).toEqual({ unexpected: [], errorLines: [] });

    const figures: string[] = [];
    for (const name of NAMES) {
      const mine = ops.filter((op) => op.name === name);
      const increments = mine.filter((op) => op.kind === 'increment');
      const deletes = mine.filter((op) => op.kind === 'delete' && op.status === 200);
      const final = await client.send(`${group.urls[0]}/get/${name}`);
      const finalValue = valueOf(final.text) ?? -1n;

      // Each lifetime ends at the value its delete answered, the last one at the final value.
      // A delete may answer 0: it came between another host making the counter's directory
      // and that host's first change landing, which then starts a new lifetime at 1.
      expect(deletes.filter((op) => !((op.value as bigint) >= 0n)).map((op) => op.text)).toEqual(
        [],
      );
      const lifetimes = [...deletes.map((op) => op.value as bigint), finalValue].filter(
        (v) => v > 0n,
      );
      // Exactly one increment answered k in every lifetime that reached k, for every k: no
      // change lost, none applied twice, none carried over from a deleted counter.
      const answered = new Map<bigint, number>();
      for (const op of increments) {
        const v = op.value as bigint;
        answered.set(v, (answered.get(v) ?? 0) + 1);
      }
      const highest = lifetimes.reduce((a, b) => (a > b ? a : b), 0n);
      for (let k = 1n; k <= highest || answered.has(k); k++) {
        const expected = lifetimes.filter((end) => end >= k).length;
        expect({ name, k, increments: answered.get(k) ?? 0 }).toEqual({
          name,
          k,
          increments: expected,
        });
      }
      const total = lifetimes.reduce((a, b) => a + b, 0n);
      expect({ name, increments: BigInt(increments.length) }).toEqual({ name, increments: total });

      figures.push(
        `${name}: ${increments.length} increments in ${lifetimes.length} lifetimes (${deletes.length} deletes answered 200, ${mine.filter((op) => op.kind === 'delete' && op.status === 404).length} 404, final ${finalValue})`,
      );
    }
    reportFigures(
      `delete under load, ${HOSTS} hosts, ${ops.length} requests: ${figures.join('; ')}`,
    );
  });
});

describe('a delete seen from every host', () => {
  it('reads 0 on every host right after a delete, and the next change answers 1', async () => {
    const urls = group.urls;
    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    for (let round = 0; round < 12; round++) {
      const name = `seen-${round % 3}`;
      // Every host reads the counter first, so each holds whatever it caches of it.
      await client.send(`${urls[round % HOSTS]}/increment/${name}?by=${round + 5}`, {
        method: 'POST',
      });
      for (const url of urls) await client.send(`${url}/get/${name}`);
      const deleted = await client.send(`${urls[(round + 1) % HOSTS]}/counters/${name}`, {
        method: 'DELETE',
        headers: admin,
      });
      expect({ round, status: deleted.status }).toEqual({ round, status: 200 });
      for (const url of urls) {
        const reply = await client.send(`${url}/get/${name}`);
        expect({ round, url, text: reply.text }).toEqual({ round, url, text: '{"value":0}' });
      }
      const again = await client.send(`${urls[(round + 2) % HOSTS]}/increment/${name}`, {
        method: 'POST',
      });
      expect({ round, text: again.text }).toEqual({ round, text: '{"value":1}' });
      await client.send(`${urls[(round + 3) % HOSTS]}/counters/${name}`, {
        method: 'DELETE',
        headers: admin,
      });
    }
  });
});
