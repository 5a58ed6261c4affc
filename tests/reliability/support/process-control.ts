import { readdirSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The one-letter state of a process or thread from /proc (R running, S sleeping, T stopped, ...). */
export function processState(pid: number, thread = pid): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'latin1');
    // The command name in parentheses may hold spaces; the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

const threadsOf = (pid: number): number[] => {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
};

/**
 * SIGSTOP, and wait until the kernel reports every thread stopped: a libuv worker thread
 * finishes the system call it is in (a write, a rename) before it stops, and a test that
 * looks at the files next must not race that call.
 */
export async function pause(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const stopped = () => threadsOf(pid).every((thread) => processState(pid, thread) === 'T');
  for (let i = 0; i < 5000 && !stopped(); i++) await sleep(1);
  if (!stopped()) throw new Error(`process ${pid} did not stop`);
}

export const resume = (pid: number): void => {
  process.kill(pid, 'SIGCONT');
};

/**
 * flock(2) locks on `lockFile` from /proc/locks: who holds one, and who waits for one
 * (a waiter's line has `->` after the number). A holder's line reads
 * `1: FLOCK  ADVISORY  WRITE <pid> <maj>:<min>:<inode> 0 EOF`.
 */
export function flocksOn(lockFile: string): Array<{ pid: number; waiting: boolean }> {
  const inode = String(statSync(lockFile).ino);
  return readFileSync('/proc/locks', 'latin1')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map((f) =>
      f[1] === '->' ? { waiting: true, f: [f[0], ...f.slice(2)] } : { waiting: false, f },
    )
    .filter(({ f }) => f[1] === 'FLOCK' && f[5]?.split(':')[2] === inode)
    .map(({ waiting, f }) => ({ pid: Number(f[4]), waiting }));
}
