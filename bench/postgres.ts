import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Counters } from '../shared/store/counters';
import type { StorageEngine } from '../shared/store/engine';
import { FilesEngine } from '../shared/store/files';
import { PostgresEngine } from '../shared/store/postgres';
import { PostgresCluster } from '../tests/support/postgres';
import { load } from './http';
import { killAll, startHost } from './servers';

/**
 * The database rows of `npm run bench`, each measured in the same run as the file rows it is
 * compared with: one hot counter against a spread over 100 counters, 2 and 4 processes on one
 * database against the same processes on a database each, and POST over HTTP. Every phase
 * checks that the counters hold exactly the acknowledged changes.
 */

const CALLERS = 64;
const SPREAD = 100;
const appRoot = path.resolve(__dirname, '..', '..');

interface Phase {
  row: string;
  changesPerSecond: number;
  exact: boolean;
  p50Ms?: number;
  p99Ms?: number;
}

/** `CALLERS` callers changing counters for `seconds`; names from `nameOf(caller, i)`. */
async function drive(
  engine: StorageEngine,
  seconds: number,
  nameOf: (caller: number) => string | undefined,
): Promise<{ changes: number; exact: boolean; seconds: number }> {
  const counters = new Counters(engine, { groupCommit: true });
  const made = new Map<string | undefined, bigint>();
  const before = new Map<string | undefined, bigint>();
  for (let c = 0; c < CALLERS; c++) {
    const name = nameOf(c);
    if (!before.has(name)) before.set(name, await counters.read(name));
  }
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let changes = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      const name = nameOf(caller);
      while (performance.now() < deadline) {
        await counters.add(name, 1n);
        made.set(name, (made.get(name) ?? 0n) + 1n);
        changes++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  let exact = true;
  for (const [name, start] of before) {
    if ((await counters.read(name)) !== start + (made.get(name) ?? 0n)) exact = false;
  }
  await counters.close();
  return { changes, exact, seconds: elapsed };
}

const hot = () => 'hot';
const spread = (caller: number) => `spread-${caller % SPREAD}`;

function postgresEngine(databaseUrl: string, dataDir: string): PostgresEngine {
  return new PostgresEngine({ databaseUrl, dataDir, maxNamed: 10_000, lockTimeoutMs: 5000 });
}

/** One process's share of the multi-process rows: prints its changes, then exits. */
async function worker(databaseUrl: string, seconds: number, name: string): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'counter-bench-pg-'));
  const run = await drive(postgresEngine(databaseUrl, scratch), seconds, () => name);
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(run));
}

async function processes(urls: string[], seconds: number, name: (i: number) => string) {
  const runs = await Promise.all(
    urls.map(async (url, i) => {
      const { stdout } = await promisify(execFile)(process.execPath, [
        __filename,
        '--worker',
        url,
        String(seconds),
        name(i),
      ]);
      return JSON.parse(stdout) as { changes: number; exact: boolean; seconds: number };
    }),
  );
  return {
    changesPerSecond: runs.reduce((sum, run) => sum + run.changes / run.seconds, 0),
    exact: runs.every((run) => run.exact),
  };
}

export async function postgresRows(seconds: number): Promise<string> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'counter-bench-pg-'));
  const cluster = await PostgresCluster.start();
  const phases: Phase[] = [];
  const add = (row: string, run: { changes: number; exact: boolean; seconds: number }) =>
    phases.push({ row, changesPerSecond: run.changes / run.seconds, exact: run.exact });
  try {
    const filesDir = (n: string) => mkdtempSync(path.join(scratch, `files-${n}-`));
    const files = (dir: string) => new FilesEngine({ dataDir: dir, maxNamed: 10_000 });
    add('files, 1 hot counter', await drive(files(filesDir('hot')), seconds, hot));
    add(`files, spread over ${SPREAD}`, await drive(files(filesDir('spread')), seconds, spread));
    const db = await cluster.freshDatabase();
    add('postgres, 1 hot counter', await drive(postgresEngine(db, scratch), seconds, hot));
    add(
      `postgres, spread over ${SPREAD}`,
      await drive(postgresEngine(db, scratch), seconds, spread),
    );

    for (const n of [1, 2, 4]) {
      const shared = await cluster.freshDatabase();
      const own = await Promise.all(Array.from({ length: n }, () => cluster.freshDatabase()));
      const one = await processes(Array(n).fill(shared), seconds, (i) => `p${i}`);
      phases.push({ row: `postgres, ${n} process(es), one database`, ...one });
      const separate = await processes(own, seconds, (i) => `p${i}`);
      phases.push({ row: `postgres, ${n} process(es), a database each`, ...separate });
    }

    for (const engine of ['files', 'postgres'] as const) {
      const env = engine === 'postgres' ? await cluster.freshDatabase() : undefined;
      const host = await startHost({
        appRoot,
        dataDir: filesDir(`http-${engine}`),
        groupCommit: true,
        env: env === undefined ? undefined : { COUNTER_DATABASE_URL: env },
      });
      const url = `${host.url}/increment`;
      await load([url], 'POST', 4, { amount: 200 });
      for (const connections of [1, CALLERS]) {
        const before = await currentValue(host.url);
        const run = await load([url], 'POST', connections, {
          amount: Math.max(200, Math.round(seconds * (connections === 1 ? 100 : 1000))),
        });
        const after = await currentValue(host.url);
        phases.push({
          row: `${engine}, HTTP POST, ${connections} connection(s)`,
          changesPerSecond: run.requestsPerSecond,
          exact: after - before === BigInt(run.ok) && run.errors === 0 && run.non2xx === 0,
          p50Ms: run.p50Ms,
          p99Ms: run.p99Ms,
        });
      }
      await host.stop();
    }
  } finally {
    killAll();
    await cluster.destroy();
    rmSync(scratch, { recursive: true, force: true });
  }
  return render(phases);
}

async function currentValue(baseUrl: string): Promise<bigint> {
  const reply = await fetch(`${baseUrl}/get`);
  const match = /"value":(-?\d+)/.exec(await reply.text());
  if (!match) throw new Error(`GET /get answered ${reply.status}`);
  return BigInt(match[1]);
}

function render(phases: Phase[]): string {
  const rate = (row: string) => phases.find((p) => p.row === row)?.changesPerSecond ?? NaN;
  const ratio = (a: string, b: string) => (rate(a) / rate(b)).toFixed(2);
  const lines = phases.map(
    (p) =>
      `| ${p.row} | ${p.changesPerSecond.toFixed(0)} | ${p.p50Ms?.toFixed(1) ?? ''} | ${p.p99Ms?.toFixed(1) ?? ''} | ${p.exact ? 'yes' : 'NO'} |`,
  );
  const targets = [
    `spread/hot: postgres ${ratio(`postgres, spread over ${SPREAD}`, 'postgres, 1 hot counter')}× (target ≥ 0.8), files ${ratio(`files, spread over ${SPREAD}`, 'files, 1 hot counter')}×`,
    ...[2, 4].map(
      (n) =>
        `${n} processes, one database / a database each: ${ratio(`postgres, ${n} process(es), one database`, `postgres, ${n} process(es), a database each`)}× (target ≥ 0.9)`,
    ),
    `HTTP POST at ${CALLERS} connections, postgres/files: ${ratio(`postgres, HTTP POST, ${CALLERS} connection(s)`, `files, HTTP POST, ${CALLERS} connection(s)`)}×`,
  ];
  return [
    '| database rows | changes/s | p50 ms | p99 ms | exact |',
    '| --- | ---: | ---: | ---: | --- |',
    ...lines,
    '',
    ...targets,
    `Every phase exact: ${phases.every((p) => p.exact) ? 'yes' : 'NO'}`,
  ].join('\n');
}

if (require.main === module) {
  const [mode, ...rest] = process.argv.slice(2);
  const run =
    mode === '--worker'
      ? worker(rest[0], Number(rest[1]), rest[2])
      : postgresRows(Number(mode?.replace('--seconds=', '') || 5)).then((table) =>
          process.stdout.write(`${table}\n`),
        );
  run.catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
