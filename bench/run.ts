import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { hostMain } from '@rusty-counter/host';
import { errnoOf } from '../shared/errno';
import { DATA_FILE } from '../shared/store/file-counter';
import { load, type LoadResult, type Method } from './http';
import type { InProcessResult } from './in-process';
import { describeMetricsCost, measureMetricsCost } from './metrics-cost';
import { parseOptions, UsageError, type BenchOptions } from './options';
import { postgresRows } from './postgres';
import { settledTotal, storedTotal } from './stored-value';
import { renderTable, summarize, type HttpKey, type HttpPhase, type Round } from './report';
import {
  killAll,
  profileFlags,
  sampleProcesses,
  startBaselineServer,
  startHost,
  streamsOffAppRoot,
  type ChildServer,
} from './servers';

const appRoot = path.resolve(__dirname, '..', '..');
// A commit in flight when the warm-up cuts its connections still lands; a quiet spell this
// long means every change of the warm-up is in data.bin before the measured run starts. On a
// machine shared with other work (load average 11 on 2 cores), 250 ms once let a warm-up
// change of a two-worker host land after the spell and count against the measured run.
const SETTLE_MS = 1_000;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env, appRoot);
  if (!existsSync(hostMain)) {
    throw new UsageError(`${hostMain} is missing: run \`npm run build\` first`);
  }
  if (options.cpuProfDir) await fs.mkdir(options.cpuProfDir, { recursive: true });

  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  const code = await codeUnderTest();
  if (code.uncommitted.length > 0) {
    progress(`measuring uncommitted changes to: ${code.uncommitted.join(', ')}`);
  }
  const rounds: Round[] = [];
  for (let i = 1; i <= options.rounds; i++) {
    progress(`round ${i} of ${options.rounds}`);
    rounds.push(await runRound(options));
  }
  progress('metrics off, on, and on while scraped');
  const metricsWork = await fs.mkdtemp(path.join(os.tmpdir(), 'counter-bench-metrics-'));
  const metricsCost = await measureMetricsCost(options, metricsWork).finally(() =>
    fs.rm(metricsWork, { recursive: true, force: true }),
  );
  const summary = summarize(rounds, options.connections);
  const table = renderTable(summary);

  await fs.mkdir(options.outDir, { recursive: true });
  const jsonFile = path.join(options.outDir, `${startedAt.toISOString().replace(/:/g, '-')}.json`);
  const report = {
    startedAt,
    code,
    machine: { ...machine(), loadAverageAtStart, loadAverageAtEnd: os.loadavg() },
    options,
    summary,
    rounds,
    metricsCost,
  };
  await fs.writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(`\n${table}\n`);
  // The database rows, measured in this run beside the file rows (bench/postgres.ts).
  if (!options.smoke) process.stdout.write(`\n${await postgresRows(options.durationSeconds)}\n`);
  process.stdout.write(
    `\nMedians of ${options.rounds} round(s), ${options.durationSeconds} s per HTTP phase. ` +
      `Targets met: ${summary.targets.filter((t) => t.met).length} of ${summary.targets.length}. ` +
      `Counters matched the acknowledged changes: ${summary.countersMatched ? 'yes' : 'NO'}.\n` +
      `Raw results: ${jsonFile}\n`,
  );
  process.stdout.write(describeMetricsCost(metricsCost));
  if (options.hostNodeFlags.length > 0) {
    process.stdout.write(`Hosts ran with node ${options.hostNodeFlags.join(' ')}.\n`);
  }
  if (code.uncommitted.length > 0) {
    process.stdout.write(`Measured with uncommitted changes to ${code.uncommitted.join(', ')}.\n`);
  }
  // Missed targets are findings to report; a lost or doubled change is a failure.
  if (!summary.countersMatched || !metricsCost.agreement.ok) process.exitCode = 1;
}

async function runRound(options: BenchOptions): Promise<Round> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'counter-bench-'));
  const top = options.connections[options.connections.length - 1];
  const http: HttpPhase[] = [];
  try {
    progress('in-process: store, SQLite, fsync loops');
    const inProcess = await runInProcess(options, top);

    // Bare node:http, the app as shipped (streams on), the same app with streams off and the
    // app in two worker processes all run from here on, and each level is measured on them
    // in turn: the ratios between them then compare neighbours in time. Measured one server
    // after the other, minutes apart, the ratios followed the machine's load and the disk's
    // fsync rate more than the servers (on ÷ off of one phase moved from 0.36 to 1.99 over
    // three rounds on a shared machine).
    const bare = await startBaselineServer(options.cpuProfDir);
    await warmUp(options, bare.url, ['bare'], top);
    const one = await hostOn(options, path.join(work, 'one'), true);
    const offRoot = await streamsOffAppRoot(appRoot, path.join(work, 'app-streams-off'));
    const off = await hostOn(options, path.join(work, 'streams-off'), true, offRoot);
    // FUNCTIONS_WORKER_PROCESS_COUNT=2 against the one-process host, at the top level.
    const two = await hostOn(options, path.join(work, 'two-workers'), true, appRoot, 2);
    for (const c of options.connections) {
      http.push(await httpPhase(options, { key: 'bare', servers: [bare], connections: c }));
      http.push(await httpPhase(options, { key: 'get', servers: [one], connections: c }));
      http.push(await httpPhase(options, { key: 'getStreamsOff', servers: [off], connections: c }));
    }
    http.push(await httpPhase(options, { key: 'getTwoWorkers', servers: [two], connections: top }));
    for (const c of options.connections) {
      http.push(await httpPhase(options, { key: 'post', servers: [one], connections: c }));
      const spec: PhaseSpec = { key: 'postStreamsOff', servers: [off], connections: c };
      http.push(await httpPhase(options, spec));
    }
    http.push(
      await httpPhase(options, { key: 'postTwoWorkers', servers: [two], connections: top }),
    );
    await Promise.all([bare.stop(), one.stop(), off.stop(), two.stop()]);

    const single = await hostOn(options, path.join(work, 'no-group-commit'), false);
    for (const c of options.connections) {
      const spec: PhaseSpec = { key: 'postNoGroupCommit', servers: [single], connections: c };
      http.push(await httpPhase(options, spec));
    }
    await single.stop();

    const sharedDir = path.join(work, 'shared');
    const pair = [await hostOn(options, sharedDir, true), await hostOn(options, sharedDir, true)];
    http.push(await httpPhase(options, { key: 'postTwoHosts', servers: pair, connections: top }));
    await Promise.all(pair.map((host) => host.stop()));

    return { inProcess, http };
  } finally {
    killAll();
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function hostOn(
  options: BenchOptions,
  dataDir: string,
  groupCommit: boolean,
  root = appRoot,
  workers = 1,
) {
  await fs.mkdir(dataDir, { recursive: true });
  // Present from the start, so that no phase begins by healing a missing data.bin.
  await fs.writeFile(path.join(dataDir, DATA_FILE), '0', { flag: 'wx' }).catch((err: unknown) => {
    if (errnoOf(err) !== 'EEXIST') throw err;
  });
  const host = await startHost({
    appRoot: root,
    dataDir,
    groupCommit,
    cpuProfDir: options.cpuProfDir,
    nodeFlags: options.hostNodeFlags,
    workers,
  });
  const top = options.connections[options.connections.length - 1];
  await warmUp(options, host.url, ['get', 'post'], top);
  return Object.assign(host, { dataDir });
}

/**
 * Load on a fresh server before anything is measured. The host's request path (the
 * programming model, undici, web streams) takes thousands of requests to be optimised by
 * the JIT; without this the first phase, at one connection, would measure a cold process.
 */
async function warmUp(options: BenchOptions, url: string, keys: HttpKey[], connections: number) {
  for (const key of keys) {
    const { method, route } = ROUTES[key];
    await load([url + route], method, connections, { seconds: options.warmupSeconds });
  }
}

interface PhaseSpec {
  key: HttpKey;
  /** Hosts carry their data directory, whose counter is checked; the bare server does not. */
  servers: Array<ChildServer & { dataDir?: string }>;
  connections: number;
}

const ROUTES: Record<HttpKey, { method: Method; route: string }> = {
  bare: { method: 'GET', route: '/' },
  get: { method: 'GET', route: '/get' },
  post: { method: 'POST', route: '/increment' },
  getStreamsOff: { method: 'GET', route: '/get' },
  postStreamsOff: { method: 'POST', route: '/increment' },
  getTwoWorkers: { method: 'GET', route: '/get' },
  postTwoWorkers: { method: 'POST', route: '/increment' },
  postNoGroupCommit: { method: 'POST', route: '/increment' },
  postTwoHosts: { method: 'POST', route: '/increment' },
};

/**
 * Warm-up by time, then exactly as many requests as the warm-up rate fits in the duration:
 * a run by count ends with every request answered, so the counter can be compared with the
 * 2xx count exactly (a run by time cuts requests off in flight, which may still land).
 */
async function httpPhase(options: BenchOptions, spec: PhaseSpec): Promise<HttpPhase> {
  const { key, servers, connections } = spec;
  const { method, route } = ROUTES[key];
  progress(`${key} @${connections}`);
  const urls = servers.map((server) => server.url + route);
  const dataDir = servers[0].dataDir;

  let warmup = await load(urls, method, connections, { seconds: options.warmupSeconds });
  // On a loaded machine a short warm-up (0.2 s in --smoke) can end before a freshly started
  // host's first answer; warm up again rather than fail for want of a rate.
  for (let retries = 4; warmup.ok === 0 && retries > 0; retries--) {
    warmup = await load(urls, method, connections, { seconds: options.warmupSeconds });
  }
  if (warmup.ok === 0) {
    throw new Error(`${method} ${route} answered no 2xx during warm-up (${warmup.non2xx} others)`);
  }
  const before = dataDir === undefined ? undefined : await settledTotal([dataDir], SETTLE_MS);
  const use = sampleProcesses(servers.map((server) => server.pid));
  const amount = Math.round(warmup.requestsPerSecond * options.durationSeconds);
  const measured: LoadResult = await load(urls, method, connections, { amount });
  const { peakRssMB, cpuSeconds } = await use.stop();

  const phase: HttpPhase = { key, connections, load: measured, warmup, peakRssMB, cpuSeconds };
  if (before !== undefined && dataDir !== undefined) {
    const after = await storedTotal([dataDir]);
    const expected = before + (method === 'POST' ? BigInt(measured.ok) : 0n);
    phase.counter = {
      before: before.toString(),
      after: after.toString(),
      expected: expected.toString(),
      ok: after === expected,
    };
  }
  return phase;
}

async function runInProcess(
  options: BenchOptions,
  concurrency: number,
): Promise<InProcessResult[]> {
  const flags = profileFlags(options.cpuProfDir);
  const script = path.join(__dirname, 'in-process.js');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...flags, script, String(options.inProcessSeconds), String(concurrency)],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout) as InProcessResult[];
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

/** Which commit was measured, and whether the code the hosts run differed from it. */
async function codeUnderTest(): Promise<{ commit?: string; uncommitted: string[] }> {
  const git = (...args: string[]) =>
    promisify(execFile)('git', args, { cwd: appRoot }).then(({ stdout }) => stdout.trimEnd());
  try {
    const commit = await git('rev-parse', 'HEAD');
    const status = await git('status', '--porcelain', '--', 'shared', 'functions', 'host');
    return { commit, uncommitted: status ? status.split('\n').map((line) => line.slice(3)) : [] };
  } catch {
    return { uncommitted: [] };
  }
}

const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

main().catch((err: unknown) => {
  killAll();
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
