import pg from 'pg';
import { CounterError, storageUnavailable } from '../errors';
import { recordRefusal } from '../metrics';
import type {
  BackupRun,
  Change,
  CounterEntry,
  CounterName,
  ListQuery,
  Outcome,
  StorageEngine,
  Warn,
} from './engine';
import { ChangeFeed } from './postgres-feed';
import { MIGRATION_LOCK_KEY, MIGRATIONS, SCHEMA_VERSION_TABLE } from './postgres-schema';
import { writeBackups } from './postgres-backup';

export interface PostgresEngineOptions {
  /** COUNTER_DATABASE_URL: `postgres://user:password@host:port/database?sslmode=...`. */
  databaseUrl: string;
  /** COUNTER_DATA_DIR: only backups are written there. */
  dataDir: string;
  maxNamed: number;
  /** COUNTER_LOCK_TIMEOUT_MS: how long a statement, a lock or a connection may take. */
  lockTimeoutMs: number;
  warn?: Warn;
}

/** Raised at start-up for a database the service must not run on; it stops start-up. */
export class UnsafeDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeDatabaseError';
  }
}

// Connection pools this size serve one commit at a time plus reads and lists in parallel.
const POOL_SIZE = 10;
const CLIENT_GRACE_MS = 2000;
// A deadlock is found and undone by the server (nothing applied), so trying again is safe. It
// can only arise when replicas create or delete the same names at once.
const DEADLOCK_RETRIES = 3;
const DEADLOCK = '40P01';
// statement_timeout and lock_timeout: the database was slower than COUNTER_LOCK_TIMEOUT_MS.
const QUERY_CANCELED = '57014';
const LOCK_NOT_AVAILABLE = '55P03';
const SERIALIZATION_FAILURE = '40001';
// The server says it committed locally but a synchronous standby has not confirmed it.
const SYNC_REP_CANCELLED = /synchronous replication/i;

const NOTHING_CHANGED = 'nothing was changed, try again';
const OUTCOME_UNKNOWN =
  'the change may or may not have been applied, so it was not retried: read the counter before trying again';

/**
 * Every counter in one table of a PostgreSQL database shared by any number of replicas. A
 * batch of changes, whichever counters they touch, is one call of `counter_apply` (see
 * postgres-schema.ts): one statement, one round trip, one transaction, one WAL flush. The
 * answer comes back only after COMMIT has returned, so it is durable (and, with a
 * synchronous standby, replicated) before any caller hears of it.
 */
export class PostgresEngine implements StorageEngine {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly connection: pg.ClientConfig;
  private readonly ownBackends = new Set<number>();
  private readonly defaultWarn: Warn;
  private started?: Promise<void>;

  constructor(private readonly options: PostgresEngineOptions) {
    this.defaultWarn = options.warn ?? ((message) => console.warn(message));
    this.connection = {
      connectionString: options.databaseUrl,
      connectionTimeoutMillis: options.lockTimeoutMs,
      keepAlive: true,
      statement_timeout: options.lockTimeoutMs,
      lock_timeout: options.lockTimeoutMs,
      idle_in_transaction_session_timeout: options.lockTimeoutMs + CLIENT_GRACE_MS,
      application_name: 'rusty-counter',
      // Beyond the server's statement_timeout, for a server gone silent (a partition, or a
      // synchronous standby that never confirms a COMMIT): the server answers first if it can.
      query_timeout: options.lockTimeoutMs + CLIENT_GRACE_MS,
    };
    this.pool = new pg.Pool({ ...this.connection, max: POOL_SIZE, idleTimeoutMillis: 30_000 });
    // An idle connection the server closed (a restart) is dropped by the pool; without a
    // listener the 'error' event would end the process.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => {
      // The pool listens only while a connection is idle. One checked out (between its
      // queries, or released late) would otherwise end the process when the server goes;
      // its query fails on its own and the pool drops it at release.
      client.on('error', () => undefined);
      const pid = backendPid(client);
      if (pid !== undefined) this.ownBackends.add(pid);
    });
    this.pool.on('remove', (client) => {
      const pid = backendPid(client);
      if (pid !== undefined) this.ownBackends.delete(pid);
    });
  }

  /**
   * Checks the server and creates or migrates the schema; every other call waits for it. A
   * database that is away leaves start() to be tried again at the next call; one that is
   * unsafe (fsync off) rejects with UnsafeDatabaseError, which must stop start-up.
   */
  start(): Promise<void> {
    this.started ??= this.checkAndMigrate().catch((err: unknown) => {
      this.started = undefined;
      throw err;
    });
    return this.started;
  }

  batchKey(): string {
    return 'database';
  }

  async commit(changes: readonly Change[]): Promise<Outcome[]> {
    if (changes.length === 0) return [];
    const names = changes.map((change) => change.name ?? '');
    const kinds = changes.map(({ operation }) =>
      'add' in operation ? 'a' : 'set' in operation ? 's' : 'd',
    );
    const amounts = changes.map(({ operation }) =>
      'add' in operation
        ? String(operation.add)
        : 'set' in operation
          ? String(operation.set)
          : null,
    );
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.query<{ outcome: string; amount: string | null }>(
          'SELECT outcome, amount FROM counter_apply($1::text[], $2::text[], $3::bigint[], $4::bigint)',
          [names, kinds, amounts, String(this.options.maxNamed)],
          { writes: true },
        );
        return rows.map((row, i) => outcomeOf(row, changes[i], this.options.maxNamed));
      } catch (err) {
        const code = sqlState(err instanceof CounterError ? err.cause : err);
        const retry = code === DEADLOCK || code === SERIALIZATION_FAILURE;
        if (!retry || attempt === DEADLOCK_RETRIES) {
          recordRefusal(
            code === QUERY_CANCELED || code === LOCK_NOT_AVAILABLE
              ? 'lock_timeout'
              : 'database_away',
            changes.length,
          );
          throw err;
        }
      }
    }
  }

  async read(name: CounterName): Promise<bigint> {
    const rows = await this.query<{ value: string }>(
      'SELECT value::text AS value FROM counters WHERE name = $1',
      [name ?? ''],
    );
    return rows.length === 0 ? 0n : BigInt(rows[0].value);
  }

  async list({ prefix, after, limit }: ListQuery): Promise<CounterEntry[]> {
    // The prefix is matched with starts_with-like byte comparison rather than LIKE, so "_"
    // and "%" in a prefix mean themselves.
    const rows = await this.query<{ name: string; value: string }>(
      `SELECT name, value::text AS value FROM counters
        WHERE name <> '' AND name > $1 AND left(name, length($2)) = $2
        ORDER BY name LIMIT $3`,
      [after ?? '', prefix ?? '', limit],
    );
    return rows.map((row) => ({ name: row.name, value: BigInt(row.value) }));
  }

  async countNamed(): Promise<number> {
    const rows = await this.query<{ named: string }>(
      'SELECT named::text AS named FROM counter_totals',
      [],
    );
    return Number(rows[0].named);
  }

  async backup(warn: Warn = this.defaultWarn): Promise<BackupRun> {
    const rows = await this.query<{ name: string; value: string }>(
      'SELECT name, value::text AS value FROM counters ORDER BY name',
      [],
    );
    return writeBackups(
      this.options.dataDir,
      rows.map((row) => ({ name: row.name, value: BigInt(row.value) })),
      warn,
    );
  }

  subscribe(onChange: (name: CounterName) => void, onResync: () => void): () => void {
    const feed = new ChangeFeed({
      connection: this.connection,
      heartbeatMs: this.options.lockTimeoutMs,
      // This process already told its watchers of its own changes, right after each commit.
      onChange: (name, senderPid) => {
        if (!this.ownBackends.has(senderPid)) onChange(name === '' ? undefined : name);
      },
      onResync,
    });
    return () => feed.stop();
  }

  async probe(): Promise<void> {
    // A write that changes nothing: it proves the server takes writes (not a read-only standby
    // left behind by a failover) without touching any counter.
    await this.query('UPDATE counter_totals SET named = named WHERE false', [], { writes: true });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * One statement on a pooled connection, bounded in time. Any failure becomes a
   * 'storageUnavailable' CounterError saying what is wrong; for a statement that writes,
   * whether it says "nothing was changed" or "may have been applied" depends on whether the
   * server could have committed it.
   */
  private async query<Row extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    { writes = false } = {},
  ): Promise<Row[]> {
    await this.start().catch((err: unknown) => {
      throw err instanceof UnsafeDatabaseError ? storageUnavailable(err.message) : err;
    });
    const client = await this.connect();
    let replicationCancelled = false;
    const onNotice = (notice: { message?: string }) => {
      if (SYNC_REP_CANCELLED.test(notice.message ?? '')) replicationCancelled = true;
    };
    client.on('notice', onNotice);
    let result: pg.QueryResult<Row>;
    try {
      result = await client.query<Row>(text, values);
    } catch (err) {
      // A connection that failed or went silent is closed, never handed to the next caller.
      client.release(err instanceof Error ? err : true);
      throw this.toStorageError(err, writes);
    } finally {
      client.removeListener('notice', onNotice);
    }
    client.release();
    if (replicationCancelled) {
      throw storageUnavailable(
        `the database committed the change but its synchronous standby did not confirm it in time; ${OUTCOME_UNKNOWN}`,
      );
    }
    return result.rows;
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw storageUnavailable(`cannot reach the database: ${describe(err)}; ${NOTHING_CHANGED}`);
    }
  }

  private toStorageError(err: unknown, writes: boolean): CounterError {
    if (err instanceof CounterError) return err;
    const code = sqlState(err);
    const limit = `COUNTER_LOCK_TIMEOUT_MS (${this.options.lockTimeoutMs} ms)`;
    // A server error in class 08 or 57P means the session ended under the statement (a
    // shutdown, a failover); any other server error rolled the statement back.
    const sessionEnded = code === undefined || code.startsWith('08') || code.startsWith('57P');
    if (sessionEnded && writes) {
      const cause = isClientTimeout(err)
        ? `the database did not answer within ${limit}`
        : `the connection to the database broke after the change was sent (${describe(err)})`;
      return storageUnavailable(`${cause}; ${OUTCOME_UNKNOWN}`, err);
    }
    const tail = writes ? NOTHING_CHANGED : 'try again';
    if (isClientTimeout(err)) {
      return storageUnavailable(`the database did not answer within ${limit}; ${tail}`, err);
    }
    if (code === QUERY_CANCELED || code === LOCK_NOT_AVAILABLE) {
      return storageUnavailable(`the database is busy: it took longer than ${limit}; ${tail}`, err);
    }
    if (code === '25006') {
      return storageUnavailable(
        `the database is read-only (a standby, or a failover under way); ${tail}`,
        err,
      );
    }
    if (code?.startsWith('53')) {
      return storageUnavailable(
        `the database is out of resources (${describe(err)}); ${tail}`,
        err,
      );
    }
    return storageUnavailable(`the database refused the request (${describe(err)}); ${tail}`, err);
  }

  private async checkAndMigrate(): Promise<void> {
    const client = await this.connect();
    try {
      const settings = await client.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')`,
      );
      const setting = (name: string) => settings.rows.find((row) => row.name === name)?.setting;
      if (setting('fsync') === 'off') {
        throw new UnsafeDatabaseError(
          'the database server runs with fsync=off, so a committed change can be lost in a crash; set fsync = on in postgresql.conf (or the server parameters) before using it for counters',
        );
      }
      if (setting('synchronous_commit') === 'off') {
        this.defaultWarn(
          'the database has synchronous_commit=off for this role or database, so a change answered 200 can be lost in a crash; run ALTER ROLE ... SET synchronous_commit = on',
        );
      }
      // A schema already up to date needs no lock and no CREATE right, so the service can run
      // as a role that may only use the tables (docs/postgres.md).
      if ((await schemaVersion(client)) >= LATEST_VERSION) {
        client.release();
        return;
      }
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await client.query(SCHEMA_VERSION_TABLE);
      const current = await schemaVersion(client);
      for (const migration of MIGRATIONS.filter((m) => m.version > current)) {
        await client.query(migration.sql);
        await client.query('INSERT INTO counter_schema_version (version) VALUES ($1)', [
          migration.version,
        ]);
      }
      await client.query('COMMIT');
      client.release();
    } catch (err) {
      client.release(true);
      if (err instanceof UnsafeDatabaseError) throw err;
      throw storageUnavailable(
        `cannot prepare the database (checking settings, creating the schema): ${describe(err)}`,
      );
    }
  }
}

const LATEST_VERSION = Math.max(...MIGRATIONS.map((migration) => migration.version));

async function schemaVersion(client: pg.PoolClient): Promise<number> {
  const table = await client.query<{ found: boolean }>(
    `SELECT to_regclass('counter_schema_version') IS NOT NULL AS found`,
  );
  if (!table.rows[0].found) return 0;
  const { rows } = await client.query<{ version: number }>(
    'SELECT coalesce(max(version), 0) AS version FROM counter_schema_version',
  );
  return rows[0].version;
}

/** node-postgres gave up waiting for an answer (query_timeout); the connection is dropped. */
const isClientTimeout = (err: unknown): boolean =>
  err instanceof Error && err.message === 'Query read timeout';

function outcomeOf(
  row: { outcome: string; amount: string | null },
  change: Change,
  maxNamed: number,
): Outcome {
  const { operation, name } = change;
  switch (row.outcome) {
    case 'v':
      return BigInt(row.amount ?? '0');
    case 'o': {
      const value = BigInt(row.amount ?? '0');
      const delta = 'add' in operation ? operation.add : 0n;
      const verb = delta > 0n ? `adding ${delta}` : `subtracting ${-delta}`;
      return new CounterError(
        'overflow',
        `${verb} would take the counter (${value}) outside the signed 64-bit range; it was not changed`,
      );
    }
    case 'c':
      return new CounterError(
        'tooManyCounters',
        `there are already ${row.amount} named counters, the most COUNTER_MAX_NAMED (${maxNamed}) allows; "${name}" was not created`,
      );
    default:
      return new CounterError('notFound', `there is no counter named "${name}"`);
  }
}

const sqlState = (err: unknown): string | undefined =>
  err instanceof Error &&
  'code' in err &&
  typeof err.code === 'string' &&
  /^[0-9A-Z]{5}$/.test(err.code)
    ? err.code
    : undefined;

const describe = (err: unknown): string =>
  err instanceof Error ? err.message || err.name : String(err);

/** The server process of a pooled connection, which NOTIFY names as the sender. */
const backendPid = (client: pg.PoolClient): number | undefined =>
  'processID' in client && typeof client.processID === 'number' ? client.processID : undefined;
