import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { load } from './http';
import { startHost, type ChildServer } from './servers';
import { median } from './stats';
import { settledTotal, storedTotal } from './stored-value';

/**
 * How far one shared data directory scales: changes/s with 1, 2 and 4 host processes on the
 * same directory, at the same total load (connections spread evenly over the processes), as
 * replicas sharing one volume would see it. Each process batches the changes it holds into
 * one commit (group commit); commits of different processes take turns on the directory's
 * lock. Every run checks that data.bin grew by exactly the changes acknowledged.
 *
 * Usage: node dist/bench/scale-out.js [--processes 1,2,4] [--connections 64] [--seconds 10]
 *        [--rounds 3]
 */
const APP_ROOT = path.resolve(__dirname, '..', '..');
const WARM_UP_SECONDS = 2;
// A commit in flight when the warm-up cuts its connections still lands, later on a busy
// machine; once the value has stood still this long, every change of the warm-up is in.
const SETTLE_MS = 500;

interface Options {
  processes: number[];
  connections: number;
  seconds: number;
  rounds: number;
}

/** One directory for all processes (as replicas on one volume), or one directory each. */
type Layout = 'shared' | 'separate';

interface Run {
  round: number;
  processes: number;
  layout: Layout;
  changesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
  acknowledged: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      processes: { type: 'string', default: '1,2,4' },
      connections: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const whole = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`--${name} must be a whole number of at least 1; got "${text}"`);
    return value;
  };
  const options = {
    processes: values.processes.split(',').map((part) => whole('processes', part)),
    connections: whole('connections', values.connections),
    seconds: whole('seconds', values.seconds),
    rounds: whole('rounds', values.rounds),
  };
  for (const count of options.processes) {
    if (options.connections % count !== 0)
      throw new Error(`--connections ${options.connections} does not split evenly over ${count}`);
  }
  return options;
}

/**
 * One measured run: `count` hosts driven by `connections` in total, all on one fresh directory
 * or each on its own. The second layout is the control: what `count` processes cost on this
 * machine without sharing a lock.
 */
async function measure(
  count: number,
  layout: Layout,
  options: Options,
): Promise<Omit<Run, 'round'>> {
  const dirs = Array.from({ length: layout === 'shared' ? 1 : count }, () =>
    mkdtempSync(path.join(os.tmpdir(), 'counter-scale-out-')),
  );
  const hosts: ChildServer[] = [];
  try {
    for (let i = 0; i < count; i++)
      hosts.push(
        await startHost({ appRoot: APP_ROOT, dataDir: dirs[i % dirs.length], groupCommit: true }),
      );
    const urls = hosts.map((host) => `${host.url}/increment`);

    // The warm-up compiles the hot paths of every process and tells how many changes the
    // measured run needs to last about `seconds`; a run by amount is answered in full, so
    // the data files can be checked against the acknowledged count exactly.
    const warmUp = await load(urls, 'POST', options.connections, { seconds: WARM_UP_SECONDS });
    const before = await settledTotal(dirs, SETTLE_MS);
    const amount = Math.max(
      options.connections * 10,
      Math.round((warmUp.ok / WARM_UP_SECONDS) * options.seconds),
    );
    const result = await load(urls, 'POST', options.connections, { amount });
    const after = await storedTotal(dirs);

    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors`);
    if (after - before !== BigInt(result.ok))
      throw new Error(
        `the counters grew by ${after - before}, but ${result.ok} changes were acknowledged`,
      );
    return {
      processes: count,
      layout,
      changesPerSecond: result.ok / result.seconds,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      seconds: result.seconds,
      acknowledged: result.ok,
    };
  } finally {
    await Promise.all(hosts.map((host) => host.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

const summary = (runs: Run[]) => {
  const rates = runs.map((run) => run.changesPerSecond);
  return (
    `${median(rates).toFixed(0)} (${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}) | ` +
    `${median(runs.map((run) => run.p50Ms)).toFixed(1)} | ${median(runs.map((run) => run.p99Ms)).toFixed(1)}`
  );
};

/**
 * The median over rounds of `run`'s rate divided by `base`'s in the same round: runs of one
 * round are minutes apart at most, so the ratio is steadier than the rates on a busy machine.
 */
function medianRatio(runs: Run[], base: Run[]): string {
  const ratios = runs.flatMap((run) => {
    const other = base.find((candidate) => candidate.round === run.round);
    return other ? [run.changesPerSecond / other.changesPerSecond] : [];
  });
  return `${median(ratios).toFixed(2)}×`;
}

function renderTable(runs: Run[], options: Options): string {
  const lines = [
    '| host processes | connections each | one shared directory: changes/s, median (min–max) | p50 ms | p99 ms | ÷ 1 process, same round | control, a directory each: changes/s | p50 ms | p99 ms | shared ÷ control, same round |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const select = (count: number, layout: Layout) =>
    runs.filter((run) => run.processes === count && run.layout === layout);
  const single = select(1, 'shared');
  for (const count of options.processes) {
    const shared = select(count, 'shared');
    const separate = select(count, 'separate');
    const control =
      count === 1
        ? '(the same run) | – | – | –'
        : `${summary(separate)} | ${medianRatio(shared, separate)}`;
    lines.push(
      `| ${count} | ${options.connections / count} | ${summary(shared)} | ` +
        `${medianRatio(shared, single)} | ${control} |`,
    );
  }
  return lines.join('\n');
}

function* plan(options: Options): Generator<[number, Layout]> {
  for (const count of options.processes) {
    yield [count, 'shared'];
    // With one process both layouts are the same run.
    if (count > 1) yield [count, 'separate'];
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const runs: Run[] = [];
  // Rounds interleave the process counts, so a slow spell of a shared machine touches all.
  for (let round = 1; round <= options.rounds; round++) {
    for (const [count, layout] of plan(options)) {
      const run = { round, ...(await measure(count, layout, options)) };
      process.stderr.write(
        `round ${round}: ${count} process(es), ${layout} directory: ` +
          `${run.changesPerSecond.toFixed(0)} changes/s (${run.acknowledged} in ` +
          `${run.seconds.toFixed(1)} s, p50 ${run.p50Ms.toFixed(1)} ms, p99 ${run.p99Ms.toFixed(1)} ms)\n`,
      );
      runs.push(run);
    }
  }
  process.stdout.write(
    `\nPOST /increment, ${options.connections} connections in total, data directories ` +
      `in ${os.tmpdir()}, ${options.rounds} round(s); Node ${process.version}, ` +
      `${os.cpus().length} CPU(s), load average at end ${os
        .loadavg()
        .map((value) => value.toFixed(1))
        .join(' ')}\n\n${renderTable(runs, options)}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
