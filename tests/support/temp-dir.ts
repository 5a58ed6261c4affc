import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh directory under the OS temp dir; `remove()` deletes it with everything inside. */
export function tempDir(prefix = 'counter-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A small tmpfs mounted on a fresh directory, to produce real disk faults: a full disk
 * (fill it) and a read-only one (`remount('ro')`). Needs root, as tests have here and in CI.
 */
export function mountTmpfs(sizeKiB = 64): {
  dir: string;
  remount: (mode: 'ro' | 'rw') => void;
  unmount: () => void;
} {
  const { dir, remove } = tempDir('counter-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir]);
  return {
    dir,
    remount: (mode) => execFileSync('mount', ['-o', `remount,${mode}`, dir]),
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      remove();
    },
  };
}
