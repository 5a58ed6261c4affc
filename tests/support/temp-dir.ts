import { execFileSync } from 'node:child_process';
import { linkSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh directory under the OS temp dir; `remove()` deletes it with everything inside. */
export function tempDir(prefix = 'counter-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A small tmpfs mounted on a fresh directory, to produce real disk faults: a full disk
 * (`fill()`) and a read-only one (`remount('ro')`). Needs root, as tests have here and in CI.
 */
export function mountTmpfs(sizeKiB = 64): {
  dir: string;
  fill: () => () => void;
  remount: (mode: 'ro' | 'rw') => void;
  unmount: () => void;
} {
  const { dir, remove } = tempDir('counter-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir]);
  return {
    dir,
    fill: () => fillAndHold(dir, sizeKiB),
    remount: (mode) => execFileSync('mount', ['-o', `remount,${mode}`, dir]),
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      remove();
    },
  };
}

/**
 * Fills the filesystem at `dir` to its last block and keeps it full; returns the function
 * that frees the space again.
 *
 * Filling alone does not keep a disk full for a writer that replaces files: each rename
 * over data.bin frees the old file's block, and the next write's temp file takes it. A
 * commit that had written its temp file before the fill would thus hand its successor a
 * block, and that one the next, and the disk would never refuse a change. So every file
 * present gets a second hard link: no later rename or unlink frees a block, and every
 * write after the fill meets ENOSPC. Nothing else in the directory must be writing while
 * this runs (pause the writers), or a block freed in between could start that chain.
 */
function fillAndHold(dir: string, sizeKiB: number): () => void {
  const filler = path.join(dir, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(sizeKiB * 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((file) => file !== filler && statSync(file).isFile());
  const links = files.map((file, i) => {
    const link = path.join(dir, `held-${i}`);
    linkSync(file, link);
    return link;
  });
  return () => [filler, ...links].forEach((file) => rmSync(file, { force: true }));
}
