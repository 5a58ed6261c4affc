import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { flock } from 'fs-ext-extra-prebuilt';

/** Raised when the lock could not be taken within the timeout; nothing was changed. */
export class LockTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the counter's lock stayed taken for more than ${timeoutMs} ms`);
    this.name = 'LockTimeoutError';
  }
}

const lockExclusive = (fd: number) =>
  new Promise<void>((resolve, reject) => flock(fd, 'ex', (err) => (err ? reject(err) : resolve())));

/**
 * A cross-process lock on one file, held with flock(2). The kernel releases it when its
 * holder dies, and never hands it to anyone while the holder lives, so there is no stale
 * timeout and no fencing to get wrong (see README, "Why a kernel lock").
 *
 * The blocking flock runs on a libuv worker thread and cannot be cancelled, so at most one
 * attempt is ever in flight: a caller that times out leaves it running for the next caller,
 * and if nobody is waiting when it succeeds the lock is released at once.
 */
export class DirectoryLock {
  private pending?: { attempt: Promise<FileHandle>; waiting: boolean };
  // On NFS, flock is a POSIX lock owned by the process, and closing any descriptor of the
  // file drops it: a new attempt must not lock until an abandoned lock is fully closed.
  private abandonedClosed: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  /** Resolves to a release function once this process holds the lock. */
  async acquire(timeoutMs: number): Promise<() => Promise<void>> {
    const pending = this.pending ?? this.startAttempt();
    pending.waiting = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        pending.waiting = false;
        reject(new LockTimeoutError(timeoutMs));
      }, timeoutMs);
    });
    try {
      const handle = await Promise.race([pending.attempt, timeout]);
      return () => handle.close();
    } finally {
      clearTimeout(timer);
    }
  }

  private startAttempt() {
    const pending = { attempt: this.lockCurrentFile(), waiting: false };
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

  private async lockCurrentFile(): Promise<FileHandle> {
    await this.abandonedClosed;
    for (;;) {
      // O_RDWR because NFS emulates flock with fcntl locks, which need a writable descriptor.
      const handle = await fs.open(this.path, constants.O_RDWR | constants.O_CREAT, 0o666);
      try {
        await lockExclusive(handle.fd);
        // If the directory was replaced while we waited, we hold a lock nobody else can see.
        const [held, current] = await Promise.all([handle.stat(), fs.stat(this.path)]);
        if (held.ino === current.ino && held.dev === current.dev) return handle;
      } catch (err) {
        await handle.close();
        throw err;
      }
      await handle.close();
    }
  }
}
