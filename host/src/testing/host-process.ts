import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Starts servers as child processes and waits for their one ready line,
 * `… listening on http://<host>:<port>`: the offline host (for end-to-end tests and the
 * benchmark) and any other script that prints the same line (the benchmark's baseline).
 */

/** The compiled host entry point, `host/dist/main.js`, from the source and the build alike. */
export const hostMain = path.resolve(__dirname, '../..', 'dist', 'main.js');

/** The one ready line every server started here prints; group 1 is the URL, group 2 the port. */
export const READY_LINE = /listening on (http:\/\/\S+?:(\d+))\b/;

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Added to the parent's environment; a value of undefined removes a variable. */
  env?: Record<string, string | undefined>;
  /** Node.js flags placed before the script, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
}

export interface SpawnedServer {
  proc: ChildProcess;
  /** Everything the server printed so far, stdout and stderr interleaved as received. */
  logs(): string;
  /** Resolves with the first log line matching `pattern`, once it has been printed. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (default SIGTERM) and SIGKILLs after `killAfterMs` (default 15 s). */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<ServerExit>;
  exited: Promise<ServerExit>;
}

export interface ReadyServer extends SpawnedServer {
  port: number;
  /** e.g. `http://127.0.0.1:41234`, without a trailing slash. */
  url: string;
}

export interface HostProcessOptions extends SpawnOptions {
  /** Directory of the Functions app. */
  appRoot: string;
  /** Port to listen on; default 0, so the OS picks a free one and the ready line reports it. */
  port?: number;
  /** How long to wait for the ready line; default 15 s. */
  readyTimeoutMs?: number;
}

/** Spawns the host on 127.0.0.1 without waiting for it, e.g. to watch a start-up fail. */
export function spawnHostProcess(options: HostProcessOptions): SpawnedServer {
  if (!existsSync(hostMain)) throw new Error(`${hostMain} is missing; run "npm run build" first`);
  return spawnServer(hostMain, [options.appRoot], {
    nodeFlags: options.nodeFlags,
    env: { HOST: '127.0.0.1', PORT: String(options.port ?? 0), ...options.env },
  });
}

/** Spawns the host serving `appRoot` and resolves once its ready line says where. */
export function startHostProcess(options: HostProcessOptions): Promise<ReadyServer> {
  return whenReady(spawnHostProcess(options), options.readyTimeoutMs);
}

/** Waits for the ready line of `server`; kills it if the line does not come. */
export async function whenReady(server: SpawnedServer, timeoutMs = 15_000): Promise<ReadyServer> {
  try {
    const line = await server.waitForLog(READY_LINE, timeoutMs);
    const [, url, port] = READY_LINE.exec(line) ?? [];
    return { ...server, url, port: Number(port) };
  } catch (err) {
    server.proc.kill('SIGKILL');
    throw err;
  }
}

/** Spawns `node [flags] script [...args]` with both output pipes collected. */
export function spawnServer(
  script: string,
  args: string[],
  options: SpawnOptions = {},
): SpawnedServer {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];

  const proc = spawn(process.execPath, [...(options.nodeFlags ?? []), script, ...args], {
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

  let exit: ServerExit | undefined;
  // 'close' comes after the process ended and its output pipes drained.
  const exited = new Promise<ServerExit>((resolve) => {
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
          reject(new Error(`${script} exited before printing ${pattern}; it printed:\n${output}`));
        }
      };
      const timeout = setTimeout(() => {
        finish();
        reject(
          new Error(
            `${script} printed no line matching ${pattern} within ${timeoutMs} ms; it printed:\n${output}`,
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
  ): Promise<ServerExit> => {
    if (!exit) proc.kill(signal);
    const killer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
    try {
      return await exited;
    } finally {
      clearTimeout(killer);
    }
  };

  return { proc, logs: () => output, waitForLog, stop, exited };
}
