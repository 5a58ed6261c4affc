import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { tryLock, waitForLock } from 'fs-native-extensions';
import { recordLockTimeout } from '../metrics';

/** Raised when the lock could not be taken within the timeout; nothing was changed. */
export class LockTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the counter's lock stayed taken for more than ${timeoutMs} ms`);
    this.name = 'LockTimeoutError';
  }
}

const MAX_POLL_MS = 8;

/** Tries without blocking, again and again with a short back-off, until the lock is taken. */
async function lockPolling(fd: number): Promise<void> {
  for (let delay = 1; !tryLock(fd); delay = Math.min(delay * 2, MAX_POLL_MS)) {
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * How a busy lock is waited for. 'block': one blocking lock call that sleeps in the kernel on
 * a libuv worker thread until the lock is free, the fastest hand-over. 'poll': non-blocking
 * attempts, holding no thread while waiting. A process waiting on many locks at once must
 * poll: its blocked calls would take all four worker threads, and the holders of those
 * locks in other processes, waiting the same way, could then never finish their writes.
 */
export type LockWait = 'block' | 'poll';

/** How far an attempt got. */
interface AttemptProgress {
  /** When the lock call was made (performance.now()), once the lock file is open. */
  lockSince?: number;
  /** The lock call returned: this process holds the lock. */
  locked: boolean;
}

/** The one lock attempt in flight, how far it got, and whether a caller waits for it. */
interface PendingAttempt extends AttemptProgress {
  attempt: Promise<FileHandle>;
  waiting: boolean;
}

/**
 * A cross-process lock on one file, held by the kernel through fs-native-extensions (Node-API,
 * so one prebuilt binary loads on every Node major): an open-file-description lock
 * (fcntl F_OFD_SETLK) on Linux, flock(2) on macOS, LockFileEx on Windows. Each belongs to the
 * open file, not the process, so two descriptors conflict even in one process. The kernel
 * releases it when its holder dies, and never hands it to anyone while the holder lives, so
 * there is no stale timeout and no fencing to get wrong (see docs/design.md, "The lock").
 *
 * The blocking lock call runs on a libuv worker thread and cannot be cancelled, so at most one
 * attempt is ever in flight: a caller that times out leaves it running for the next caller,
 * and if nobody is waiting when it succeeds the lock is released at once.
 */
export class DirectoryLock {
  private pending?: PendingAttempt;
  // A new attempt must not lock until an abandoned lock is fully closed, so that this process
  // never holds two descriptors of the lock file at once: on NFS servers that map every lock
  // to one owner per client, closing either would drop the other's lock.
  private abandonedClosed: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly wait: LockWait = 'block',
  ) {}

  /**
   * Resolves to a release function once this process holds the lock; fails with
   * LockTimeoutError once the lock call has been waiting `timeoutMs` without getting it: someone else
   * held the lock all that time. Opening the lock file before and checking it after do not
   * count: on a starved event loop (a machine far busier than its cores) each such step can
   * wait seconds for its turn, with the lock free all along, and 503s would then measure the
   * machine's load instead of the lock.
   */
  async acquire(timeoutMs: number): Promise<() => Promise<void>> {
    const pending = this.pending ?? this.startAttempt();
    pending.waiting = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const check = () => {
        if (pending.locked) return;
        const since = pending.lockSince;
        const waited = since === undefined ? 0 : performance.now() - since;
        if (waited < timeoutMs) {
          arm(timeoutMs - waited);
          return;
        }
        pending.waiting = false;
        recordLockTimeout();
        reject(new LockTimeoutError(timeoutMs));
      };
      // Timers run before I/O callbacks in each turn of the event loop, so the lock's answer may
      // be waiting when the timer fires: look after this turn's I/O callbacks.
      const arm = (ms: number) => (timer = setTimeout(() => setImmediate(check), ms));
      arm(timeoutMs);
    });
    try {
      const handle = await Promise.race([pending.attempt, timeout]);
      return () => handle.close();
    } finally {
      clearTimeout(timer);
    }
  }

  private startAttempt() {
    const progress: AttemptProgress = { locked: false };
    const pending: PendingAttempt = Object.assign(progress, {
      attempt: this.lockCurrentFile(progress),
      waiting: false,
    });
    this.pending = pending;
    pending.attempt.then(
      (handle) => {
        this.pending = undefined;
        if (!pending.waiting) this.abandonedClosed = handle.close().catch(() => undefined);
      },
      () => {
        this.pending = undefined;
      },
    );
    return pending;
  }

  /** Takes the lock, noting in `progress` when the lock call is made and when it returns. */
  private async lockCurrentFile(progress: AttemptProgress): Promise<FileHandle> {
    await this.abandonedClosed;
    for (;;) {
      // O_RDWR because a write lock through fcntl needs a writable descriptor.
      const handle = await fs.open(this.path, constants.O_RDWR | constants.O_CREAT, 0o666);
      try {
        progress.lockSince = performance.now();
        // A free lock is taken at once on this thread; only a busy one is waited for.
        if (!tryLock(handle.fd)) {
          await (this.wait === 'poll' ? lockPolling(handle.fd) : waitForLock(handle.fd));
        }
        Object.assign(progress, { lockSince: undefined, locked: true });
        // If the directory was replaced while we waited, we hold a lock nobody else can see.
        const [held, current] = await Promise.all([handle.stat(), fs.stat(this.path)]);
        if (held.ino === current.ino && held.dev === current.dev) return handle;
      } catch (err) {
        await handle.close();
        throw err;
      }
      Object.assign(progress, { lockSince: undefined, locked: false });
      await handle.close();
    }
  }
}
