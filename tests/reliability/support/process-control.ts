import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The one-letter state of a process from /proc (R running, S sleeping, T stopped, ...). */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name in parentheses may hold spaces; the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** SIGSTOP, and wait until the kernel reports the process stopped. */
export async function pause(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  for (let i = 0; i < 1000 && processState(pid) !== 'T'; i++) await sleep(1);
  if (processState(pid) !== 'T') throw new Error(`process ${pid} did not stop`);
}

export const resume = (pid: number): void => {
  process.kill(pid, 'SIGCONT');
};

/**
 * Pids holding a granted flock(2) on `lockFile`, from /proc/locks (waiters, shown with
 * `->`, are left out). A line reads `1: FLOCK  ADVISORY  WRITE <pid> <maj>:<min>:<inode> 0 EOF`.
 */
export function flockHolders(lockFile: string): number[] {
  const inode = String(statSync(lockFile).ino);
  return readFileSync('/proc/locks', 'latin1')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1] === 'FLOCK' && f[5]?.split(':')[2] === inode)
    .map((f) => Number(f[4]));
}

/**
 * Stops `pid` at a moment when it holds the lock on `lockFile`: stop it, look, and if it
 * does not hold the lock let it run a few milliseconds and try again. Under load a writer
 * holds the lock a good share of the time, so this takes a handful of tries. Returns
 * false (with the process running) if it never caught the process holding the lock.
 */
export async function pauseWhileHoldingLock(
  pid: number,
  lockFile: string,
  tries = 500,
): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    await pause(pid);
    if (flockHolders(lockFile).includes(pid)) return true;
    resume(pid);
    await sleep(1 + (i % 7));
  }
  return false;
}
