import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ReadyServer,
  type ServerExit,
  type SpawnedServer,
  spawnHostProcess,
  whenReady,
} from '@rusty-counter/host';

/**
 * The host package's process helper, serving this app on a data directory of its own: what the
 * app's end-to-end, reliability and deploy tests start.
 */

/** The project root, which is also the app root of the real app. */
export const projectRoot = path.resolve(__dirname, '../..');

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

export type HostExit = ServerExit;

export interface HostProcess extends ReadyServer {
  dataDir: string;
}

export function createTempDir(prefix = 'rusty-counter-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Spawns the host on this app and resolves once it serves HTTP. */
export async function startHost(options: StartHostOptions = {}): Promise<HostProcess> {
  const host = spawnHost(options);
  return { ...(await whenReady(host, options.readyTimeoutMs)), dataDir: host.dataDir };
}

/** Spawns the host without waiting for it, e.g. to watch a start-up fail. */
export function spawnHost(options: StartHostOptions = {}): SpawnedServer & { dataDir: string } {
  const dataDir = options.dataDir ?? createTempDir();
  const host = spawnHostProcess({
    appRoot: options.appRoot ?? projectRoot,
    port: options.port,
    env: { COUNTER_DATA_DIR: dataDir, ...options.env },
  });
  const stop = async (signal?: NodeJS.Signals, killAfterMs?: number): Promise<HostExit> => {
    try {
      return await host.stop(signal, killAfterMs);
    } finally {
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    }
  };
  return { ...host, stop, dataDir };
}
