import type { InvocationContext } from '@azure/functions';
import { loadConfig, type CounterConfig } from './config';
import { Counters } from './store/counters';
import type { StorageEngine, Warn } from './store/engine';
import { FilesEngine } from './store/files';
import type * as Postgres from './store/postgres';
import { WatchHub } from './watch-hub';

let config: CounterConfig | undefined;
let counters: Counters | undefined;
let watchHub: WatchHub | undefined;

/** Settings, read once per process (they come from the environment, fixed at start). */
export const getConfig = (): CounterConfig => (config ??= loadConfig());

/**
 * The database engine's module, loaded only when a database is set: `pg` and its parsers add
 * about 6 MB to every process, and most run on the file store.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const postgres = (): typeof Postgres => require('./store/postgres') as typeof Postgres;

/** The storage engine the settings choose: the data directory unless a database is set. */
function createEngine(settings: CounterConfig): StorageEngine {
  if (settings.databaseUrl !== undefined) {
    return new (postgres().PostgresEngine)({
      databaseUrl: settings.databaseUrl,
      dataDir: settings.dataDir,
      maxNamed: settings.maxNamed,
      lockTimeoutMs: settings.lockTimeoutMs,
    });
  }
  return new FilesEngine({
    dataDir: settings.dataDir,
    maxNamed: settings.maxNamed,
    lockTimeoutMs: settings.lockTimeoutMs,
  });
}

/** The counters of this process, so all invocations share each counter's group commit. */
export const getCounters = (): Counters =>
  (counters ??= new Counters(createEngine(getConfig()), {
    groupCommit: getConfig().groupCommit,
    onChange: (name) => watchHub?.changed(name),
  }));

/** The watchers of this process (`GET /watch`), told of every change it makes. */
export const getWatchHub = (): WatchHub =>
  (watchHub ??= new WatchHub({
    read: (name) => getCounters().read(name),
    subscribe: getCounters().engine.subscribe?.bind(getCounters().engine),
    maxWatchers: getConfig().maxWatchers,
    warn: (message) => console.warn(message),
  }));

/**
 * At start-up: checks the database and creates or migrates its schema. A database that must
 * not be used (fsync off) stops start-up; one that is away only delays it, because requests
 * answer 503 until it returns and the engine then prepares it at its first use.
 */
export async function prepareStorage(warn: Warn): Promise<void> {
  if (getConfig().databaseUrl === undefined) return;
  const { PostgresEngine, UnsafeDatabaseError } = postgres();
  const { engine } = getCounters();
  if (!(engine instanceof PostgresEngine)) return;
  try {
    await engine.start();
  } catch (err) {
    if (err instanceof UnsafeDatabaseError) throw err;
    warn(`the database is not ready (${(err as Error).message}); requests answer 503 until it is`);
  }
}

/** Healing warnings go to the log of the invocation that triggered them. */
export const warnTo =
  (context: InvocationContext): Warn =>
  (message) =>
    context.warn(message);

/** For tests that change the environment between cases. */
export function resetServices(): void {
  watchHub?.closeAll();
  void counters?.close();
  config = undefined;
  counters = undefined;
  watchHub = undefined;
}
