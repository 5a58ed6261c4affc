import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CounterError } from '../../shared/errors';
import { registry } from '../../shared/metrics';
import type { Change, Outcome } from '../../shared/store/engine';
import { PostgresEngine, UnsafeDatabaseError } from '../../shared/store/postgres';
import { PostgresCluster } from '../support/postgres';
import { tempDir } from '../support/temp-dir';

jest.setTimeout(60_000);

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);
const noWarn = () => undefined;

let cluster: PostgresCluster;
let scratch: ReturnType<typeof tempDir>;
const engines: PostgresEngine[] = [];

beforeAll(async () => {
  cluster = await PostgresCluster.start();
  scratch = tempDir('rusty-counter-pg-engine-');
});
afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close().catch(() => undefined)));
  await cluster?.destroy();
  scratch?.remove();
});

function engineOn(
  databaseUrl: string,
  options: { maxNamed?: number; lockTimeoutMs?: number; warn?: (m: string) => void } = {},
) {
  const engine = new PostgresEngine({
    databaseUrl,
    dataDir: scratch.dir,
    maxNamed: options.maxNamed ?? 100,
    lockTimeoutMs: options.lockTimeoutMs ?? 2000,
    warn: options.warn ?? noWarn,
  });
  engines.push(engine);
  return engine;
}

async function freshEngine(options?: Parameters<typeof engineOn>[1]) {
  return engineOn(await cluster.freshDatabase(), options);
}

/** The statements of docs/postgres.md, "A role with only the rights the service needs". */
function leastPrivilegeGrants(database: string): string[] {
  const doc = readFileSync(path.join(__dirname, '../../docs/postgres.md'), 'utf8');
  const block = /```sql\n-- least privilege\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/postgres.md has no "-- least privilege" sql block');
  return block[1]
    .replaceAll('counters_db', database)
    .replace(/PASSWORD '[^']*'/, '')
    .split(';')
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}

const add = (name: string | undefined, by: bigint): Change => ({ name, operation: { add: by } });
const set = (name: string | undefined, to: bigint): Change => ({ name, operation: { set: to } });
const remove = (name: string): Change => ({ name, operation: { delete: true } });
const kindOf = (outcome: Outcome) => (outcome instanceof CounterError ? outcome.kind : outcome);

describe('PostgresEngine against the store interface', () => {
  it('answers each change of a batch with the value right after it, exactly beyond 2^53', async () => {
    const engine = await freshEngine();
    const big = 2n ** 60n + 7n;
    const outcomes = await engine.commit([
      add(undefined, big),
      add('a', 1n),
      add(undefined, 1n),
      add('b', -3n),
      add('a', 2n),
    ]);
    expect(outcomes).toEqual([big, 1n, big + 1n, -3n, 3n]);
    await expect(engine.read(undefined)).resolves.toBe(big + 1n);
    await expect(engine.read('a')).resolves.toBe(3n);
  });

  it('refuses only the change that would overflow, with the file store message, and applies the rest', async () => {
    const engine = await freshEngine();
    const outcomes = await engine.commit([
      set('x', MAX - 1n),
      add('x', 1n),
      add('x', 1n),
      add('x', -5n),
      set('y', MIN),
      add('y', -1n),
    ]);
    expect(outcomes.map(kindOf)).toEqual([MAX - 1n, MAX, 'overflow', MAX - 5n, MIN, 'overflow']);
    expect((outcomes[2] as CounterError).message).toBe(
      `adding 1 would take the counter (${MAX}) outside the signed 64-bit range; it was not changed`,
    );
    expect((outcomes[5] as CounterError).message).toBe(
      `subtracting 1 would take the counter (${MIN}) outside the signed 64-bit range; it was not changed`,
    );
    await expect(engine.read('x')).resolves.toBe(MAX - 5n);
  });

  it('orders a set among the changes around it', async () => {
    const engine = await freshEngine();
    await expect(
      engine.commit([add('s', 5n), set('s', 100n), add('s', 1n), set('s', -2n)]),
    ).resolves.toEqual([5n, 100n, 101n, -2n]);
  });

  it('reads a name never changed as 0 and creates nothing', async () => {
    const engine = await freshEngine();
    await expect(engine.read('ghost')).resolves.toBe(0n);
    await expect(engine.read(undefined)).resolves.toBe(0n);
    await expect(engine.countNamed()).resolves.toBe(0);
    await expect(engine.list({ limit: 10 })).resolves.toEqual([]);
  });

  it('deletes a counter, answering the value it held, frees its place, and answers notFound for an absent one', async () => {
    const engine = await freshEngine({ maxNamed: 1 });
    const outcomes = await engine.commit([
      add('d', 4n),
      remove('d'),
      remove('d'),
      add('e', 1n),
      remove('e'),
      add('d', 9n),
    ]);
    expect(outcomes.map(kindOf)).toEqual([4n, 4n, 'notFound', 1n, 1n, 9n]);
    await expect(engine.countNamed()).resolves.toBe(1);
    await expect(engine.list({ limit: 10 })).resolves.toEqual([{ name: 'd', value: 9n }]);
  });

  it('keeps the cap exact when engines on one database create counters at once', async () => {
    const url = await cluster.freshDatabase();
    const [one, two, three] = [1, 2, 3].map(() => engineOn(url, { maxNamed: 25 }));
    // Each engine creates 20 names, 10 of them shared with another engine.
    const names = (from: number) => Array.from({ length: 20 }, (_, i) => `n${from + i}`);
    const results = await Promise.all(
      [one, two, three].map((engine, e) =>
        Promise.all(names(e * 10).map((name) => engine.commit([add(name, 1n)]))),
      ),
    );
    const refused = results.flat(2).filter((o) => o instanceof CounterError);
    expect(refused.every((o) => (o as CounterError).kind === 'tooManyCounters')).toBe(true);
    await expect(one.countNamed()).resolves.toBe(25);
    const listed = await two.list({ limit: 100 });
    expect(listed).toHaveLength(25);
    // Every acknowledged increment is in a value; none is lost or doubled.
    const acked = results.flat(2).filter((o) => typeof o === 'bigint').length;
    expect(listed.reduce((sum, entry) => sum + entry.value, 0n)).toBe(BigInt(acked));
    expect((refused[0] as CounterError).message).toMatch(
      /^there are already 25 named counters, the most COUNTER_MAX_NAMED \(25\) allows; "n\d+" was not created$/,
    );
  });

  it('creates each counter once when engines on one database change it first at once', async () => {
    const url = await cluster.freshDatabase();
    const writers = [1, 2, 3, 4].map(() => engineOn(url));
    const outcomes = await Promise.all(
      writers.map((engine) => engine.commit([add(undefined, 1n), add('first', 1n)])),
    );
    expect(outcomes.flat().sort()).toEqual([1n, 1n, 2n, 2n, 3n, 3n, 4n, 4n]);
    await expect(writers[0].countNamed()).resolves.toBe(1);
  });

  it('lists named counters in byte order with prefix, after and limit, never the default', async () => {
    const engine = await freshEngine();
    const names = ['b-2', 'a_1', 'b_1', 'b-1', 'c', 'ba'];
    await engine.commit([add(undefined, 1n), ...names.map((name, i) => set(name, BigInt(i)))]);
    const page = async (query: Parameters<typeof engine.list>[0]) =>
      (await engine.list(query)).map((entry) => entry.name);
    await expect(page({ limit: 100 })).resolves.toEqual(['a_1', 'b-1', 'b-2', 'b_1', 'ba', 'c']);
    await expect(page({ limit: 2, after: 'b-1' })).resolves.toEqual(['b-2', 'b_1']);
    // "_" is a name character here, not LIKE's any-character.
    await expect(page({ limit: 100, prefix: 'b_' })).resolves.toEqual(['b_1']);
    await expect(page({ limit: 100, prefix: 'b', after: 'b-2' })).resolves.toEqual(['b_1', 'ba']);
  });

  it('passes hostile names to SQL only as parameters', async () => {
    const engine = await freshEngine();
    const hostile = ["x'); DROP TABLE counters; --", 'a%', "'", '\\'];
    await engine.commit(hostile.map((name) => add(name, 2n)));
    for (const name of hostile) await expect(engine.read(name)).resolves.toBe(2n);
    await expect(engine.list({ limit: 10, prefix: 'a%' })).resolves.toEqual([
      { name: 'a%', value: 2n },
    ]);
  });

  it('creates the schema once when many engines start at once, and records its version', async () => {
    const url = await cluster.freshDatabase();
    await Promise.all(Array.from({ length: 6 }, () => engineOn(url).start()));
    const versions = await cluster.sql<{ version: number }>(
      'SELECT version FROM counter_schema_version',
      url.split('/').pop(),
    );
    expect(versions).toEqual([{ version: 1 }]);
  });

  describe('as a role holding only the grants docs/postgres.md lists', () => {
    let url: string;
    beforeAll(async () => {
      url = await cluster.freshDatabase();
      const database = url.split('/').pop()!;
      await engineOn(url).start();
      for (const statement of leastPrivilegeGrants(database))
        await cluster.sql(statement, database);
    });

    it('runs once the schema exists', async () => {
      const app = engineOn(url.replace('postgres@', 'counter_app@'));
      await app.start();
      await expect(
        app.commit([add('g', 1n), add(undefined, 2n), remove('g'), add('h', 3n)]),
      ).resolves.toEqual([1n, 2n, 1n, 3n]);
      await expect(app.list({ limit: 10 })).resolves.toEqual([{ name: 'h', value: 3n }]);
      await expect(app.countNamed()).resolves.toBe(1);
      await expect(app.probe()).resolves.toBeUndefined();
    });

    it("cannot create in the schema, where before PostgreSQL 15 every role could plant a function that counter_apply runs with its caller's rights", async () => {
      const app = new pg.Client({ connectionString: url.replace('postgres@', 'counter_app@') });
      await app.connect();
      try {
        // An exact match beats pg_catalog's polymorphic array_position, so counter_apply would
        // call this one, as whoever calls counter_apply: the owner running `npm run counters`.
        await expect(
          app.query(
            `CREATE FUNCTION array_position(text[], text) RETURNS integer LANGUAGE sql AS 'SELECT 1'`,
          ),
        ).rejects.toMatchObject({ code: '42501' });
      } finally {
        await app.end();
      }
    });
  });

  it('tells the changes of one engine to another engine subscribed to the same database', async () => {
    const url = await cluster.freshDatabase();
    const [writer, watcher] = [engineOn(url), engineOn(url)];
    const heard: (string | undefined)[] = [];
    let resyncs = 0;
    const stop = watcher.subscribe(
      (name) => heard.push(name),
      () => resyncs++,
    );
    await waitFor(() => resyncs === 1);
    await writer.commit([add('w', 1n), add(undefined, 1n), add('w', 1n)]);
    await watcher.commit([add('own', 1n)]);
    await writer.commit([add('after', 1n)]);
    await waitFor(() => heard.includes('after'));
    stop();
    // One event per counter per commit; the watcher's own change is not echoed back.
    expect(heard.sort()).toEqual(['after', 'w', undefined].sort());
  });

  it('writes backups in the file store layout for the counters changed since the last run', async () => {
    const engine = await freshEngine();
    const dataDir = scratch.dir;
    await engine.commit([set(undefined, 2n ** 62n), set('one', 1n), set('two', 2n)]);
    await expect(engine.backup(noWarn)).resolves.toEqual({
      defaultValue: 2n ** 62n,
      named: 2,
      failed: [],
    });
    const backupOf = (...parts: string[]) => readFileSync(path.join(dataDir, ...parts), 'latin1');
    expect(backupOf('backup.bin')).toBe(String(2n ** 62n));
    expect(backupOf('counters', 'two', 'backup.bin')).toBe('2');
    await engine.commit([add('two', 1n)]);
    await expect(engine.backup(noWarn)).resolves.toMatchObject({ named: 1 });
    expect(backupOf('counters', 'two', 'backup.bin')).toBe('3');
  });
});

describe('PostgresEngine start-up checks', () => {
  it('refuses a server running with fsync=off, naming the setting', async () => {
    const unsafe = await PostgresCluster.start({ settings: { fsync: 'off' } });
    try {
      const engine = engineOn(unsafe.url());
      const refusal = engine.start();
      await expect(refusal).rejects.toBeInstanceOf(UnsafeDatabaseError);
      await expect(refusal).rejects.toThrow(/fsync=off/);
    } finally {
      await unsafe.destroy();
    }
  });

  it('warns when synchronous_commit is off for its database', async () => {
    const url = await cluster.freshDatabase();
    await cluster.sql(`ALTER DATABASE ${url.split('/').pop()} SET synchronous_commit = off`);
    const warnings: string[] = [];
    await engineOn(url, { warn: (message) => warnings.push(message) }).start();
    expect(warnings).toEqual([expect.stringMatching(/synchronous_commit=off/)]);
  });
});

describe('PostgresEngine when the database is away', () => {
  it('answers storageUnavailable saying what is wrong, then recovers by itself when the database returns', async () => {
    const engine = await freshEngine({ lockTimeoutMs: 1000 });
    let resyncs = 0;
    const stop = engine.subscribe(
      () => undefined,
      () => resyncs++,
    );
    await engine.commit([add('r', 1n)]);
    await waitFor(() => resyncs === 1);

    await cluster.stopServer('fast');
    const away = await refusals('database_away');
    const refusal = engine.commit([add('r', 1n)]);
    await expect(refusal).rejects.toMatchObject({ kind: 'storageUnavailable' });
    await expect(refusals('database_away')).resolves.toBe(away + 1);
    await expect(refusal).rejects.toThrow(/database/);
    await expect(engine.read('r')).rejects.toMatchObject({ kind: 'storageUnavailable' });
    await expect(engine.probe()).rejects.toMatchObject({ kind: 'storageUnavailable' });

    await cluster.startServer();
    await waitFor(
      async () =>
        await engine.probe().then(
          () => true,
          () => false,
        ),
    );
    await expect(engine.commit([add('r', 1n)])).resolves.toEqual([2n]);
    // The feed came back on its own and asked for every watched value to be read again.
    await waitFor(() => resyncs === 2);
    stop();
  });

  it('answers storageUnavailable, never retried, when COMMIT was sent but its outcome stays unknown', async () => {
    const url = await cluster.freshDatabase();
    // Only the engine under test needs the short limit: creating the schema in a fresh database
    // can take longer than 300 ms on a busy machine.
    const setup = engineOn(url);
    await setup.start();
    await setup.close();
    // A synchronous standby that never confirms: COMMIT is written locally, then waits.
    await cluster.sql(`ALTER SYSTEM SET synchronous_standby_names = 'ghost'`);
    await cluster.sql('SELECT pg_reload_conf()');
    // The reload reaches running sessions in their own time, so the engine connects only once
    // a new session sees the setting (an idle pooled one could still commit without it).
    await waitFor(
      async () =>
        (
          await cluster.sql<{ synchronous_standby_names: string }>('SHOW synchronous_standby_names')
        )[0].synchronous_standby_names === 'ghost',
    );
    const engine = engineOn(url, { lockTimeoutMs: 300 });
    try {
      const unknown = engine.commit([add('maybe', 1n)]);
      await expect(unknown).rejects.toMatchObject({ kind: 'storageUnavailable' });
      await expect(unknown).rejects.toThrow(
        /did not answer within COUNTER_LOCK_TIMEOUT_MS \(300 ms\); the change may or may not have been applied, so it was not retried/,
      );
    } finally {
      await cluster.sql('ALTER SYSTEM RESET synchronous_standby_names');
      await cluster.sql('SELECT pg_reload_conf()');
    }
    // It landed once: the engine did not send it again.
    await expect(engine.read('maybe')).resolves.toBe(1n);
  });

  it('answers storageUnavailable within COUNTER_LOCK_TIMEOUT_MS when a counter stays locked', async () => {
    const url = await cluster.freshDatabase();
    const engine = engineOn(url, { lockTimeoutMs: 300 });
    await engine.commit([add('held', 1n)]);
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT * FROM counters WHERE name = 'held' FOR UPDATE`);
      const before = await refusals('lock_timeout');
      const refusal = engine.commit([add('held', 1n), add('free', 1n)]);
      await expect(refusal).rejects.toMatchObject({ kind: 'storageUnavailable' });
      await expect(refusals('lock_timeout')).resolves.toBe(before + 2);
      await expect(refusal).rejects.toThrow(
        /longer than COUNTER_LOCK_TIMEOUT_MS \(300 ms\); nothing was changed/,
      );
    } finally {
      await blocker.end();
    }
    await expect(engine.read('free')).resolves.toBe(0n);
  });
});

/** The storage refusals /metrics has counted so far for `cause`. */
async function refusals(cause: string): Promise<number> {
  const metric = await registry.getSingleMetric('rusty_counter_storage_refusals_total')?.get();
  return metric?.values.find((sample) => sample.labels.cause === cause)?.value ?? 0;
}

async function waitFor(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('PostgresEngine when the server dies under a checked-out connection', () => {
  it('answers storageUnavailable and raises no uncaught exception', async () => {
    // Core Tools and Azure restart the worker at an uncaught exception.
    const uncaught: unknown[] = [];
    const record = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', record);
    const url = await cluster.freshDatabase();
    const engine = engineOn(url);
    const holder = new pg.Client({ connectionString: url });
    holder.on('error', () => undefined);
    try {
      await engine.commit([add('held', 1n)]);
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query("SELECT * FROM counters WHERE name = 'held' FOR UPDATE");
      // The engine's commit waits on the row lock with its connection checked out.
      const blocked = engine.commit([add('held', 1n)]).catch((err: unknown) => err);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await cluster.stopServer('immediate');
      expect(await blocked).toBeInstanceOf(CounterError);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(uncaught).toEqual([]);
    } finally {
      process.removeListener('uncaughtException', record);
      await holder.end().catch(() => undefined);
      await cluster.startServer();
    }
  });
});
