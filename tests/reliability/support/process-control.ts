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

/** The lock lines of one /proc listing (`/proc/locks`, or an fdinfo file) that name `inode`. */
const lockLinesOn = (text: string, inode: string): string[][] =>
  text
    .split('\n')
    .map((line) =>
      line
        .replace(/^lock:/, '')
        .trim()
        .split(/\s+/),
    )
    .filter((f) => f.at(-3)?.split(':').at(-1) === inode);

const readable = (file: string): string => {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return '';
  }
};

/**
 * The kernel's locks on `lockFile`: who holds one, and who waits for one. The lock is an
 * open-file-description lock, which /proc/locks lists with pid -1
 * (`1: OFDLCK ADVISORY WRITE -1 <maj>:<min>:<inode> 0 EOF`; a waiter's line has `->` after
 * the number), so a holder is found by the descriptor whose fdinfo lists the lock. A waiter
 * belongs to no descriptor there, so only their number is known.
 */
export function locksOn(lockFile: string): { holders: number[]; waiters: number } {
  const inode = String(statSync(lockFile).ino);
  const waiters = lockLinesOn(readable('/proc/locks'), inode).filter((f) => f[1] === '->').length;
  const holders = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fdinfo`);
      } catch {
        return false;
      }
      return fds.some((fd) => lockLinesOn(readable(`/proc/${pid}/fdinfo/${fd}`), inode).length > 0);
    })
    .map(Number);
  return { holders, waiters };
}
