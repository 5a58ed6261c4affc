import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveHostConfig } from '@rusty-counter/host';
import { loadConfig } from '../../../shared/config';

export interface ShutdownTimes {
  /** How long the host waits, after SIGTERM, for the changes under way (SHUTDOWN_TIMEOUT_MS). */
  shutdownTimeoutMs: number;
  /** The longest a change waits for the directory's lock before it answers 503. */
  lockTimeoutMs: number;
}

/**
 * The host's and the app's own reading of a container's environment, so that a manifest's
 * grace periods are checked against what the code will do with that environment (defaults
 * included), not against numbers copied into the test.
 */
export function shutdownTimesOf(env: Record<string, string>): ShutdownTimes {
  // An empty app root: no .env or config.json of this checkout may fill in a setting.
  const appRoot = mkdtempSync(path.join(os.tmpdir(), 'counter-manifest-env-'));
  try {
    const host = resolveHostConfig(env, { corsCredentials: false }, { routePrefix: '' });
    const app = loadConfig(
      { COUNTER_CONFIG_FILE: path.join(appRoot, 'none.json'), ...env },
      appRoot,
    );
    return { shutdownTimeoutMs: host.shutdownTimeoutMs, lockTimeoutMs: app.lockTimeoutMs };
  } finally {
    rmSync(appRoot, { recursive: true, force: true });
  }
}
