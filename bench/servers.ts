import { promises as fs } from 'node:fs';
import path from 'node:path';
import { spawnHostProcess, spawnServer, type SpawnedServer, whenReady } from '@rusty-counter/host';

/** A server under test, running as a child process of the bench. */
export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL if it has not exited within a few seconds. */
  stop(): Promise<void>;
}

export interface HostSettings {
  appRoot: string;
  dataDir: string;
  groupCommit: boolean;
  cpuProfDir?: string;
  nodeFlags?: string[];
  /** More settings, e.g. COUNTER_METRICS=false. */
  env?: Record<string, string>;
  /** FUNCTIONS_WORKER_PROCESS_COUNT; default 1. */
  workers?: number;
}

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const running = new Set<SpawnedServer>();

/**
 * The offline Functions host serving the app, on its own port and data directory. The
 * counter's settings are all given here, so neither the caller's environment nor the app
 * root's `.env`/local.settings.json (which only fill in what is unset) can change them.
 */
export async function startHost(settings: HostSettings): Promise<ChildServer> {
  // The host listens on 127.0.0.1, on a port the OS picks and its ready line reports.
  const env = {
    COUNTER_DATA_DIR: settings.dataDir,
    COUNTER_GROUP_COMMIT: String(settings.groupCommit),
    // The file store unless `env` names a database, whatever the caller's environment says.
    COUNTER_DATABASE_URL: '',
    // Empty counts as "no key" for the app, and as "set" for the settings loader.
    COUNTER_WRITE_KEY: '',
    COUNTER_READ_KEY: '',
    // Per-request log lines would measure the terminal, not the counter.
    LOG_LEVEL: 'warning',
    FUNCTIONS_WORKER_PROCESS_COUNT: String(settings.workers ?? 1),
    ...settings.env,
  };
  const nodeFlags = [...(settings.nodeFlags ?? []), ...profileFlags(settings.cpuProfDir)];
  return ready(spawnHostProcess({ appRoot: settings.appRoot, env, nodeFlags }));
}

const STREAMS_ON_MAIN = 'dist/functions/*.js';

/**
 * The app as shipped, minus `functions/watch.js`, the one function that turns on the
 * library's HTTP streams (`app.setup({ enableHttpStream: true })`, which /watch needs): the
 * same handlers served with streams off. A directory of its own whose package.json `main`
 * leaves that file out, linking everything else to the real app.
 */
export async function streamsOffAppRoot(appRoot: string, dir: string): Promise<string> {
  const manifest = JSON.parse(await fs.readFile(path.join(appRoot, 'package.json'), 'utf8')) as {
    main?: string;
  };
  if (manifest.main !== STREAMS_ON_MAIN) {
    throw new Error(
      `package.json "main" is ${manifest.main}; the bench expects ${STREAMS_ON_MAIN}`,
    );
  }
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ ...manifest, main: 'dist/functions/!(watch).js' }),
  );
  for (const entry of ['dist', 'node_modules', 'host.json', 'local.settings.json']) {
    await fs.symlink(path.join(appRoot, entry), path.join(dir, entry));
  }
  return dir;
}

/** Baseline (b), the bare node:http server. */
export async function startBaselineServer(cpuProfDir?: string): Promise<ChildServer> {
  const script = path.join(__dirname, 'baseline-server.js');
  return ready(spawnServer(script, [], { nodeFlags: profileFlags(cpuProfDir) }));
}

/** Kills whatever is still running, e.g. after a failed phase. */
export function killAll(): void {
  for (const server of running) server.proc.kill('SIGKILL');
}

/** What a server's processes used during one measured run. */
export interface ProcessUse {
  /** Peak resident set of any one process, in MB. */
  peakRssMB: number;
  /** CPU time (user + system) of all its processes together, in seconds. */
  cpuSeconds: number;
}

/**
 * Watches `pids` and their child processes (a host's worker processes) in /proc until
 * stopped: the peak resident set of any one of them, and the CPU time they used together.
 * CPU per request varies far less with the machine's other load than requests per second
 * do, so the report gives both.
 */
export function sampleProcesses(pids: number[], everyMs = 100): { stop(): Promise<ProcessUse> } {
  let peakKiB = 0;
  const tree = async () =>
    (await Promise.all(pids.map(async (pid) => [pid, ...(await childrenOf(pid))]))).flat();
  const cpuTicks = async () => {
    const ticks = new Map<number, number>();
    for (const pid of await tree()) ticks.set(pid, await cpuTicksOf(pid));
    return ticks;
  };
  const sample = async () => {
    const sizes = await Promise.all((await tree()).map(rssKiB));
    peakKiB = Math.max(peakKiB, ...sizes);
  };
  const startTicks = cpuTicks();
  const timer = setInterval(() => void sample(), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await sample();
      const [before, after] = [await startTicks, await cpuTicks()];
      let ticks = 0;
      for (const [pid, end] of after) ticks += end - (before.get(pid) ?? 0);
      return { peakRssMB: (peakKiB * 1024) / 1e6, cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND };
    },
  };
}

/** USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100 on every Linux build in use. */
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process from /proc/<pid>/stat (0 once it is gone). */
async function cpuTicksOf(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
  // The command name, in parentheses, may hold spaces; the fields after it are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}

async function childrenOf(pid: number): Promise<number[]> {
  const list = await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'latin1').catch(() => '');
  return list.split(' ').filter(Boolean).map(Number);
}

async function rssKiB(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'latin1').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
}

export const profileFlags = (dir: string | undefined): string[] =>
  dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];

/** Resolves once the server prints its ready line, `… listening on http://host:port`. */
async function ready(server: SpawnedServer): Promise<ChildServer> {
  running.add(server);
  void server.exited.then(() => running.delete(server));
  const { url, proc } = await whenReady(server, READY_TIMEOUT_MS);
  return {
    url,
    pid: proc.pid ?? 0,
    stop: async () => {
      await server.stop('SIGTERM', STOP_TIMEOUT_MS);
    },
  };
}
