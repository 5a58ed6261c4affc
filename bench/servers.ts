import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

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
}

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const running = new Set<ChildProcess>();

/**
 * The offline Functions host serving the app, on its own port and data directory. The
 * counter's settings are all given here, so neither the caller's environment nor the app
 * root's `.env`/local.settings.json (which only fill in what is unset) can change them.
 */
export async function startHost(settings: HostSettings): Promise<ChildServer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    COUNTER_DATA_DIR: settings.dataDir,
    COUNTER_GROUP_COMMIT: String(settings.groupCommit),
    // Empty counts as "no key" for the app, and as "set" for the settings loader.
    COUNTER_WRITE_KEY: '',
    COUNTER_READ_KEY: '',
    // Per-request log lines would measure the terminal, not the counter.
    LOG_LEVEL: 'warning',
  };
  const main = path.join(settings.appRoot, 'dist', 'host', 'main.js');
  const child = spawnNode(main, [settings.appRoot], env, settings.cpuProfDir);
  return ready(child, `http://127.0.0.1:${port}`, '/get');
}

/** Baseline (b), the bare node:http server. */
export async function startBaselineServer(cpuProfDir?: string): Promise<ChildServer> {
  const port = await freePort();
  const child = spawnNode(
    path.join(__dirname, 'baseline-server.js'),
    [String(port)],
    process.env,
    cpuProfDir,
  );
  return ready(child, `http://127.0.0.1:${port}`, '/');
}

/** Kills whatever is still running, e.g. after a failed phase. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Watches the resident set of `pids` from /proc until stopped; resolves to the peak, in MB. */
export function sampleRss(pids: number[], everyMs = 100): { stop(): Promise<number> } {
  let peakKiB = 0;
  const sample = async () => {
    const sizes = await Promise.all(pids.map(rssKiB));
    peakKiB = Math.max(peakKiB, ...sizes);
  };
  const timer = setInterval(() => void sample(), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await sample();
      return (peakKiB * 1024) / 1e6;
    },
  };
}

async function rssKiB(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'latin1').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
}

function spawnNode(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cpuProfDir: string | undefined,
): ChildProcess {
  const flags = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`];
  const child = spawn(process.execPath, [...flags, script, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function ready(child: ChildProcess, url: string, probePath: string): Promise<ChildServer> {
  // Kept for the error message if it never answers; also drains the pipes so it never blocks.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`server exited (${signal ?? code}) before answering:\n${output}`)),
    ),
  );
  exited.catch(() => undefined);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const answered = await Promise.race([
      fetch(url + probePath).then(
        async (res) => (await res.arrayBuffer(), true),
        () => false,
      ),
      exited,
    ]);
    if (answered) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server at ${url} did not answer within ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    url,
    pid: child.pid ?? 0,
    stop: () => stop(child),
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
