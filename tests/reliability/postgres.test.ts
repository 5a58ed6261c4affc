import { performance } from 'node:perf_hooks';
import { openEventStream } from '../support/sse';
import { PostgresCluster } from '../support/postgres';
import { tempDir } from '../support/temp-dir';
import {
  ackedCount,
  CounterClient,
  isAcked,
  startLoad,
  valueOf,
  type ChangeRecord,
} from './support/counter-client';
import { reportFigures } from './support/figures';
import { HostGroup } from './support/hosts';

// Four replicas sharing one database, as `docker compose --profile postgres up --scale backend=4`.
const HOSTS = 4;
const CONCURRENCY = 32;
// Beyond 2^53, so a value that passed through a double anywhere would come out wrong.
const START = 2n ** 60n + 12_345n;
const ADMIN_KEY = 'pg-reliability-admin';
const NAMES = ['hot', 'spread-1', 'spread-2', 'spread-3'];

jest.setTimeout(120_000);

let cluster: PostgresCluster;
let scratch: ReturnType<typeof tempDir>;
let group: HostGroup;
let client: CounterClient;

beforeAll(async () => {
  cluster = await PostgresCluster.start();
  scratch = tempDir('rusty-counter-pg-hosts-');
  group = await HostGroup.start(HOSTS, {
    dataDir: scratch.dir,
    env: {
      COUNTER_DATABASE_URL: await cluster.freshDatabase(),
      COUNTER_LOCK_TIMEOUT_MS: '2000',
      COUNTER_ADMIN_KEY: ADMIN_KEY,
    },
  });
  client = new CounterClient();
});
afterAll(async () => {
  client?.close();
  await group?.stopAll();
  await cluster?.destroy();
  scratch?.remove();
});

const path = (name: string | undefined) => (name === undefined ? '' : `/${name}`);

async function valueAt(url: string, name?: string): Promise<bigint> {
  const reply = await client.send(`${url}/get${path(name)}`);
  const value = valueOf(reply.text);
  if (reply.status !== 200 || value === undefined) {
    throw new Error(`GET /get${path(name)} answered ${reply.status} ${reply.text}`);
  }
  return value;
}

async function setValue(name: string | undefined, value: bigint): Promise<void> {
  const reply = await client.send(`${group.urls[0]}/set${path(name)}?value=${value}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  expect(reply.status).toBe(200);
}

/** Increments of 1 on `name` (the default counter when undefined), spread over the hosts. */
function increments(name: string | undefined, total = Infinity) {
  return startLoad({
    client,
    concurrency: CONCURRENCY,
    next: (i) => (i < total ? { target: i % HOSTS, kind: 'increment', by: 1n, name } : undefined),
    urlOf: (target) => group.urls[target],
  });
}

const failures = (records: ChangeRecord[]) =>
  records.filter((r) => r.status !== 200).map((r) => `${r.status ?? 'no answer'} ${r.text ?? ''}`);

describe(`${HOSTS} hosts on one PostgreSQL database`, () => {
  it('end exactly at the start plus the acknowledged increments, every answer distinct, on the default and named counters at once', async () => {
    await setValue(undefined, START);
    for (const name of NAMES) await setValue(name, START);
    const perCounter = 200;
    const loads = [undefined, ...NAMES].map((name) => increments(name, perCounter));
    const results = await Promise.all(loads.map((load) => load.done));
    for (const records of results) {
      expect(failures(records)).toEqual([]);
      expect(new Set(records.map((r) => r.value)).size).toBe(perCounter);
    }
    for (const name of [undefined, ...NAMES]) {
      for (const url of group.urls) {
        await expect(valueAt(url, name)).resolves.toBe(START + BigInt(perCounter));
      }
    }
    reportFigures(
      `postgres: ${HOSTS} hosts on one database, ${perCounter} increments on each of ${NAMES.length + 1} counters (one hot default, ${NAMES.length} named): all distinct, every total exact`,
    );
  });

  it('tells a watcher on one host of a change acknowledged by another, through LISTEN/NOTIFY', async () => {
    const stream = await openEventStream(`${group.urls[1]}/watch/watched`);
    expect(stream.status).toBe(200);
    let current = BigInt(await stream.sse.nextValue());
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const reply = await client.send(`${group.urls[0]}/increment/watched`, { method: 'POST' });
      const acknowledgedAt = performance.now();
      const value = valueOf(reply.text)!;
      while (current !== value) current = BigInt(await stream.sse.nextValue());
      latencies.push(performance.now() - acknowledgedAt);
    }
    stream.close();
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    reportFigures(
      `postgres watch across hosts: ${latencies.length} changes, latency from the answer on host 0 to the event on host 1: p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms`,
    );
  });

  it('loses no acknowledged change when a host is killed with SIGKILL mid-load', async () => {
    await setValue('killed', 0n);
    const load = increments('killed');
    await load.until((records) => ackedCount(records) >= 100);
    const victim = 2;
    group.hosts[victim].proc.kill('SIGKILL');
    const killedAt = performance.now();
    await load.until(
      (records) => records.filter((r) => isAcked(r) && r.startedAt > killedAt).length >= 100,
    );
    await group.restart(victim);
    await load.until(
      (records) =>
        records.filter((r) => isAcked(r) && r.target === victim && r.startedAt > killedAt).length >=
        20,
    );
    const records = await load.stop();
    const acked = ackedCount(records);
    const unanswered = records.filter((r) => r.status === undefined).length;
    const value = await valueAt(group.urls[0], 'killed');
    // Every acknowledged increment is there; one the dead host never answered may be too.
    expect(value).toBeGreaterThanOrEqual(BigInt(acked));
    expect(value).toBeLessThanOrEqual(BigInt(acked + unanswered));
    expect(records.filter((r) => r.status !== undefined && r.status !== 200)).toEqual([]);
    reportFigures(
      `postgres SIGKILL: ${acked} increments acknowledged, ${unanswered} unanswered by the killed host, final ${value}: none acknowledged lost`,
    );
  });

  it('answers 503 with Retry-After while the database restarts, loses no acknowledged change, and serves again without restarting the hosts', async () => {
    await setValue('restarted', 0n);
    const load = increments('restarted');
    await load.until((records) => ackedCount(records) >= 100);
    await cluster.stopServer('fast');
    const stoppedAt = performance.now();
    await load.until(
      (records) => records.filter((r) => r.status === 503 && r.startedAt > stoppedAt).length >= 20,
    );
    await cluster.startServer();
    const restartedAt = performance.now();
    await load.until(
      (records) => records.filter((r) => isAcked(r) && r.startedAt > restartedAt).length >= 100,
    );
    const records = await load.stop();

    const refused = records.filter((r) => r.status === 503);
    expect(records.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
    for (const reply of refused) {
      expect(reply.headers?.['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(reply.text ?? '')).toEqual({ error: expect.stringMatching(/database/) });
    }
    // A 503 whose COMMIT outcome was unknown may have landed; every other one did not.
    const unknown = refused.filter((r) =>
      /may or may not have been applied/.test(r.text ?? ''),
    ).length;
    const acked = ackedCount(records);
    const value = await valueAt(group.urls[0], 'restarted');
    expect(value).toBeGreaterThanOrEqual(BigInt(acked));
    expect(value).toBeLessThanOrEqual(BigInt(acked + unknown));
    const servedAgain = Math.min(
      ...records.filter((r) => isAcked(r) && r.startedAt > restartedAt).map((r) => r.endedAt),
    );
    const health = await client.send(`${group.urls[3]}/health`);
    expect(health.status).toBe(200);
    reportFigures(
      `postgres restart mid-load: ${acked} acknowledged, ${refused.length} answered 503 (${unknown} with an unknown COMMIT outcome), final ${value}: none acknowledged lost; down ${(restartedAt - stoppedAt).toFixed(0)} ms, serving again ${(servedAgain - restartedAt).toFixed(0)} ms after it was back`,
    );
  });

  it('refuses hostile names with 400 before they reach the database', async () => {
    const hostile = ["x'; DROP TABLE counters; --", 'a%25', '..%2F..', 'A'.repeat(65)];
    for (const name of hostile) {
      const reply = await client.send(`${group.urls[0]}/increment/${encodeURIComponent(name)}`, {
        method: 'POST',
      });
      expect(reply.status).toBe(400);
    }
    await expect(valueAt(group.urls[0], 'hot')).resolves.toBeGreaterThan(0n);
  });
});
