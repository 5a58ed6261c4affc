import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Counters } from '../shared/store/counters';
import { DATA_FILE } from '../shared/store/file-counter';
import { FilesEngine } from '../shared/store/files';
import { percentile } from './stats';

/** One in-process measurement: changes made one after another or `concurrency` at a time. */
export interface InProcessResult {
  key: InProcessKey;
  concurrency: number;
  changes: number;
  seconds: number;
  changesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** The value read back equals the number of changes made. */
  counterOk: boolean;
}

export type InProcessKey =
  'store' | 'storeOneAtATime' | 'storeNoGroupCommit' | 'sqlite' | 'fsyncLoop' | 'atomicReplaceLoop';

/**
 * Baseline (c): the store's changes/s without HTTP, against SQLite with a durable commit per
 * change, and against the disk itself. Each measurement starts from 0 in a fresh directory.
 */
async function measureInProcess(seconds: number, concurrency: number): Promise<InProcessResult[]> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'counter-bench-'));
  let n = 0;
  const fresh = () => mkdtempSync(path.join(root, `${n++}-`));
  try {
    return [
      await storeRun('store', fresh(), true, concurrency, seconds),
      await storeRun('storeOneAtATime', fresh(), true, 1, seconds),
      await storeRun('storeNoGroupCommit', fresh(), false, concurrency, seconds),
      ...sqliteRun(fresh(), seconds),
      fsyncLoop(fresh(), seconds),
      atomicReplaceLoop(fresh(), seconds),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function storeRun(
  key: InProcessKey,
  dataDir: string,
  groupCommit: boolean,
  concurrency: number,
  seconds: number,
): Promise<InProcessResult> {
  await writeFile(path.join(dataDir, DATA_FILE), '0');
  const counters = new Counters(new FilesEngine({ dataDir, maxNamed: 0, warn: () => undefined }), {
    groupCommit,
  });
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const caller = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      await counters.add(undefined, 1n);
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  const value = await counters.read(undefined);
  return result(key, concurrency, latencies, elapsed, value === BigInt(latencies.length));
}

/**
 * SQLite is Node's own `node:sqlite` (Node ≥ 22.5, unflagged from 22.13), so the baseline needs
 * no native addon to compile at install. On an older Node it is absent and the bench reports the
 * baseline as unavailable instead of measuring it.
 */
const sqlite = process.getBuiltinModule('node:sqlite');

/** One `UPDATE … RETURNING` per change, each its own durable transaction, as the issue asks. */
function sqliteRun(dir: string, seconds: number): InProcessResult[] {
  if (!sqlite) return [];
  const db = new sqlite.DatabaseSync(path.join(dir, 'counter.db'));
  try {
    const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.journal_mode;
    if (mode !== 'wal') throw new Error(`SQLite refused WAL mode (got ${String(mode)})`);
    db.exec('PRAGMA synchronous = FULL');
    db.exec('CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)');
    db.exec('INSERT INTO counter (id, value) VALUES (1, 0)');
    const update = db.prepare('UPDATE counter SET value = value + ? WHERE id = 1 RETURNING value');
    update.setReadBigInts(true);
    let last: unknown = 0n;
    const { latencies, elapsed } = timedLoop(seconds, () => {
      last = update.get(1n)?.value;
    });
    return [result('sqlite', 1, latencies, elapsed, last === BigInt(latencies.length))];
  } finally {
    db.close();
  }
}

/** Overwrite the same bytes and fsync: the most durable writes per second this disk does. */
function fsyncLoop(dir: string, seconds: number): InProcessResult {
  const fd = openSync(path.join(dir, DATA_FILE), 'w');
  let value = 0;
  try {
    const { latencies, elapsed } = timedLoop(seconds, () => {
      value++;
      writeSync(fd, String(value), 0);
      fsyncSync(fd);
    });
    return result('fsyncLoop', 1, latencies, elapsed, holds(dir, latencies.length));
  } finally {
    closeSync(fd);
  }
}

/**
 * The store's commit protocol without the store: temp file, write, fsync, rename, directory
 * fsync. No commit of the store can be faster, so this bounds commits/s, not changes/s.
 */
function atomicReplaceLoop(dir: string, seconds: number): InProcessResult {
  const target = path.join(dir, DATA_FILE);
  let value = 0;
  const { latencies, elapsed } = timedLoop(seconds, () => {
    value++;
    const temp = `${target}.tmp-${value}`;
    const fd = openSync(temp, 'wx');
    writeSync(fd, String(value));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, target);
    const dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  });
  return result('atomicReplaceLoop', 1, latencies, elapsed, holds(dir, latencies.length));
}

const holds = (dir: string, count: number) =>
  readFileSync(path.join(dir, DATA_FILE), 'latin1') === String(count);

function timedLoop(seconds: number, change: () => void) {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  for (let now = started; now < deadline;) {
    change();
    const done = performance.now();
    latencies.push(done - now);
    now = done;
  }
  return { latencies, elapsed: (performance.now() - started) / 1000 };
}

function result(
  key: InProcessKey,
  concurrency: number,
  latencies: number[],
  seconds: number,
  counterOk: boolean,
): InProcessResult {
  return {
    key,
    concurrency,
    changes: latencies.length,
    seconds,
    changesPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    counterOk,
  };
}

// Run as its own process by the bench (`node dist/bench/in-process.js SECONDS CONCURRENCY`),
// so it shares no heap or event loop with the load generator and can be profiled alone.
if (require.main === module) {
  const [seconds, concurrency] = process.argv.slice(2).map(Number);
  measureInProcess(seconds || 2, concurrency || 64).then(
    (results) => process.stdout.write(`${JSON.stringify(results)}\n`),
    (err: unknown) => {
      process.stderr.write(`in-process bench failed: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
