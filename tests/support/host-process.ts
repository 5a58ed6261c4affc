import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The project root, which is also the app root of the real app. */
export const projectRoot = path.resolve(__dirname, '../..');
export const hostScript = path.join(projectRoot, 'dist/host/main.js');

export interface StartHostOptions {
  /** Directory of the Functions app; default: the project itself. */
  appRoot?: string;
  /** Added to the parent's environment; a value of undefined removes a variable. */
  env?: Record<string, string | undefined>;
  /** Port to listen on; default 0, so the OS picks a free one and the ready line reports it. */
  port?: number;
  /**
   * COUNTER_DATA_DIR; default: a new temporary directory (see `dataDir` on the result), which
   * `stop()` removes once the host has exited. Pass a directory to keep it.
   */
  dataDir?: string;
  /** How long to wait for the ready line; default 15 s. */
  readyTimeoutMs?: number;
}

export interface HostExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HostProcess {
  port: number;
  /** e.g. `http://127.0.0.1:41234`, without a trailing slash. */
  url: string;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the host printed so far, stdout and stderr interleaved as received. */
  logs(): string;
  /** Resolves with the first log line matching `pattern`, once it has been printed. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * Sends `signal` (default SIGTERM), SIGKILLs after `killAfterMs` (default 15 s), and removes
   * the data directory if it was created for this host.
   */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<HostExit>;
  exited: Promise<HostExit>;
}

const readyLine = /listening on (http:\/\/\S+?:(\d+))\b/;

export function createTempDir(prefix = 'rusty-counter-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Spawns `node dist/host/main.js <appRoot>` and resolves once it serves HTTP. */
export async function startHost(options: StartHostOptions = {}): Promise<HostProcess> {
  const host = spawnHost(options);
  try {
    const match = await host.waitForLog(readyLine, options.readyTimeoutMs ?? 15_000);
    const [, url, port] = readyLine.exec(match) ?? [];
    return { ...host, url, port: Number(port) };
  } catch (err) {
    host.proc.kill('SIGKILL');
    throw err;
  }
}

/** Spawns the host without waiting for it, e.g. to watch a start-up fail. */
export function spawnHost(options: StartHostOptions = {}): Omit<HostProcess, 'port' | 'url'> {
  if (!existsSync(hostScript))
    throw new Error(`${hostScript} is missing; run "npm run build" first`);
  const dataDir = options.dataDir ?? createTempDir();
  const env: Record<string, string | undefined> = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    COUNTER_DATA_DIR: dataDir,
    ...options.env,
  };
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];

  const proc = spawn(process.execPath, [hostScript, options.appRoot ?? projectRoot], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: string) => {
    output += chunk;
    for (const listener of listeners) listener();
  };
  proc.stdout.setEncoding('utf8').on('data', collect);
  proc.stderr.setEncoding('utf8').on('data', collect);

  let exit: HostExit | undefined;
  // 'close' comes after the process ended and its output pipes drained.
  const exited = new Promise<HostExit>((resolve) => {
    proc.once('close', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
      for (const listener of listeners) listener();
    });
  });

  const waitForLog = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = output.split('\n').find((candidate) => pattern.test(candidate));
        if (line !== undefined) {
          finish();
          resolve(line);
        } else if (exit) {
          finish();
          reject(new Error(`host exited before printing ${pattern}; it printed:\n${output}`));
        }
      };
      const timeout = setTimeout(() => {
        finish();
        reject(
          new Error(
            `host printed no line matching ${pattern} within ${timeoutMs} ms; it printed:\n${output}`,
          ),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timeout);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  const stop = async (
    signal: NodeJS.Signals = 'SIGTERM',
    killAfterMs = 15_000,
  ): Promise<HostExit> => {
    if (!exit) proc.kill(signal);
    const killer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
    try {
      return await exited;
    } finally {
      clearTimeout(killer);
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    }
  };

  return { dataDir, proc, logs: () => output, waitForLog, stop, exited };
}
