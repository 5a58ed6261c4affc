import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithTool, findTool } from '../../support/system-tool';

/** Controls fail-fsync.c inside every host started with `env`; see that file for patterns. */
export interface FsyncShim {
  /** Environment that loads the shim into a host process. */
  env: Record<string, string>;
  /** From now on, fsyncs of matching descriptors fail with EIO, until `clear()`. */
  fail(pattern: string): void;
  /**
   * From now on, fsyncs of matching descriptors wait until `clear()`. Resolves once one is
   * waiting: the holder is then provably inside its commit, past the write, before the
   * rename, with the directory lock held. This is how a test stops a writer at a known
   * point instead of sleeping and hoping it got there.
   */
  hold(pattern: string): Promise<void>;
  /** Lets held fsyncs go on, and later ones run normally. */
  clear(): void;
}

/**
 * The C compiler: `cc`, or `gcc` itself where Debian's `cc` alternative link is missing (gcc
 * installed but /usr/bin/cc absent happens on images that drop /etc/alternatives links).
 */
const compiler = findTool('cc') ?? findTool('gcc');

/** `describe` for tests that inject faults with the shim, which needs a C compiler to build. */
export const describeWithCc = describeWithTool(
  'a C compiler (cc or gcc)',
  compiler,
  'apt-get install -y --no-install-recommends gcc libc6-dev',
);

/** Compiles the LD_PRELOAD shim into `buildDir` (which must exist). */
export function buildFsyncShim(buildDir: string): FsyncShim {
  const shim = path.join(buildDir, 'fail-fsync.so');
  const source = path.join(__dirname, 'fail-fsync.c');
  execFileSync(compiler ?? 'cc', ['-shared', '-fPIC', '-O2', '-o', shim, source, '-ldl']);
  const control = path.join(buildDir, 'fail-when');
  const reached = `${control}.reached`;
  return {
    // libuv must run fsync through libc (a thread-pool call) for the shim to see it.
    env: { LD_PRELOAD: shim, FAIL_FSYNC_WHEN: control, UV_USE_IO_URING: '0' },
    fail: (pattern) => writeFileSync(control, `fail:${pattern}`),
    hold: async (pattern) => {
      rmSync(reached, { force: true });
      writeFileSync(control, `block:${pattern}`);
      // A bound only so that a writer that never syncs fails here, not at the test timeout.
      for (let i = 0; i < 30_000 && !existsSync(reached); i++) await sleep(1);
      if (!existsSync(reached)) throw new Error(`no fsync matching ${pattern} started`);
    },
    clear: () => {
      rmSync(control, { force: true });
      rmSync(reached, { force: true });
    },
  };
}
