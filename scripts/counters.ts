import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../shared/config';
import { Counters } from '../shared/store/counters';
import type { CounterEntry, StorageEngine } from '../shared/store/engine';
import { FilesEngine } from '../shared/store/files';
import { PostgresEngine } from '../shared/store/postgres';

const USAGE = `Moves counters between a file-store directory and the database of COUNTER_DATABASE_URL.

  npm run counters -- import --from <dir> [--force]   the directory's counters into the database
  npm run counters -- export --to <dir> [--force]     the database's counters into the directory

Without --force, nothing is overwritten: import refuses a database that holds counters, export
a directory that does. With --force, counters present on both sides take the source's value;
the others are left as they are.`;

class UsageError extends Error {}

// Whatever the settings say, a move must carry every counter across.
const NO_CAP = Number.MAX_SAFE_INTEGER;
const PAGE = 1000;

async function main(argv: string[]): Promise<string> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const [command] = positionals;
  const dir = command === 'import' ? values.from : command === 'export' ? values.to : undefined;
  if (positionals.length !== 1 || dir === undefined) throw new UsageError(USAGE);
  const config = loadConfig();
  if (config.databaseUrl === undefined) {
    throw new UsageError(
      `COUNTER_DATABASE_URL is not set: it names the database to ${command} ${command === 'import' ? 'into' : 'from'}`,
    );
  }
  const dataDir = path.resolve(dir);
  const database = new PostgresEngine({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    maxNamed: NO_CAP,
    lockTimeoutMs: config.lockTimeoutMs,
  });
  const files = new FilesEngine({ dataDir, maxNamed: NO_CAP, lockTimeoutMs: config.lockTimeoutMs });
  try {
    if (command === 'import') {
      if (!existsSync(dataDir)) throw new UsageError(`${dataDir} does not exist`);
      if (!values.force && (await holdsCounters(database))) {
        throw new UsageError('the database already holds counters; add --force to overwrite them');
      }
      const moved = await copy(files, database);
      return `imported ${moved} counter(s) from ${dataDir} into the database`;
    }
    if (!values.force && holdsFiles(dataDir)) {
      throw new UsageError(`${dataDir} already holds counters; add --force to overwrite them`);
    }
    const moved = await copy(database, files);
    return `exported ${moved} counter(s) from the database into ${dataDir}`;
  } finally {
    await Promise.all([database.close(), files.close()]);
  }
}

/** Sets every counter of `from` (the default one first, then the named ones) in `to`. */
async function copy(from: StorageEngine, to: StorageEngine): Promise<number> {
  const warn = (message: string) => process.stderr.write(`${message}\n`);
  const target = new Counters(to, { warn });
  await target.set(undefined, await from.read(undefined, warn), warn);
  let moved = 1;
  let after: string | undefined;
  for (;;) {
    const page: CounterEntry[] = await from.list({ after, limit: PAGE });
    if (page.length === 0) return moved;
    await Promise.all(page.map(({ name, value }) => target.set(name, value, warn)));
    moved += page.length;
    after = page[page.length - 1].name;
  }
}

async function holdsCounters(engine: StorageEngine): Promise<boolean> {
  return (await engine.countNamed()) > 0 || (await engine.read(undefined, () => undefined)) !== 0n;
}

const holdsFiles = (dir: string): boolean =>
  existsSync(dir) && readdirSync(dir).some((entry) => entry === 'data.bin' || entry === 'counters');

main(process.argv.slice(2)).then(
  (message) => process.stdout.write(`${message}\n`),
  (err: unknown) => {
    const known = err instanceof UsageError || err instanceof ConfigError;
    process.stderr.write(
      `${known ? '' : 'counters: '}${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = known ? 2 : 1;
  },
);
