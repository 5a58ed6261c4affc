import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
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
  nodeFlags?: string[];
}

const READY_TIMEOUT_MS = 20_000;
const READY_LINE = /listening on (http:\/\/[^\s:]+:\d+)/;
const STOP_TIMEOUT_MS = 10_000;
const running = new Set<ChildProcess>();

/**
 * The offline Functions host serving the app, on its own port and data directory. The
 * counter's settings are all given here, so neither the caller's environment nor the app
 * root's `.env`/local.settings.json (which only fill in what is unset) can change them.
 */
export async function startHost(settings: HostSettings): Promise<ChildServer> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    // The OS picks a free port; the host reports it in its ready line.
    PORT: '0',
    COUNTER_DATA_DIR: settings.dataDir,
    COUNTER_GROUP_COMMIT: String(settings.groupCommit),
    // Empty counts as "no key" for the app, and as "set" for the settings loader.
    COUNTER_WRITE_KEY: '',
    COUNTER_READ_KEY: '',
    // Per-request log lines would measure the terminal, not the counter.
    LOG_LEVEL: 'warning',
  };
  const main = path.join(settings.appRoot, 'dist', 'host', 'main.js');
  const flags = [...(settings.nodeFlags ?? []), ...profileFlags(settings.cpuProfDir)];
  return ready(spawnNode(main, [settings.appRoot], env, flags));
}

/** Baseline (b), the bare node:http server. */
export async function startBaselineServer(cpuProfDir?: string): Promise<ChildServer> {
  const script = path.join(__dirname, 'baseline-server.js');
  return ready(spawnNode(script, [], process.env, profileFlags(cpuProfDir)));
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
  flags: string[],
): ChildProcess {
  const child = spawn(process.execPath, [...flags, script, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

export const profileFlags = (dir: string | undefined): string[] =>
  dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];

/** Resolves once the child prints its ready line, `… listening on http://host:port`. */
async function ready(child: ChildProcess): Promise<ChildServer> {
  // Kept for the error message; reading both pipes also keeps the child from blocking on them.
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`no ready line within ${READY_TIMEOUT_MS} ms; the server printed:\n${output}`),
      );
    }, READY_TIMEOUT_MS);
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
      const match = READY_LINE.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
  return { url, pid: child.pid ?? 0, stop: () => stop(child) };
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
