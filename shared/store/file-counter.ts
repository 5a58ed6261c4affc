import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { errnoOf } from '../errno';
import { CounterError, storageUnavailable } from '../errors';
import {
  commitTimer,
  recordHealing,
  recordRefusal,
  type CommitTimer,
  type RefusalCause,
} from '../metrics';
import { isInRange, parseStoredValue } from './counter-value';
import { DirectoryLock, LockTimeoutError, type LockWait } from './directory-lock';
import type { Outcome, Warn } from './engine';

export interface FileCounterOptions {
  dataDir: string;
  lockTimeoutMs?: number;
  warn?: Warn;
  /**
   * For a named counter: makes its directory at its first change, and may refuse (the cap on
   * named counters). With it, a read of a counter whose directory is missing answers 0 and
   * creates nothing, and a directory removed by a delete is made again by the next change.
   * Without it, the directory is made at the first call of any kind.
   */
  createDirectory?: () => Promise<void>;
  /** How this counter's lock is waited for (see DirectoryLock); default 'block'. */
  lockWait?: LockWait;
}

export const DATA_FILE = 'data.bin';
export const BACKUP_FILE = 'backup.bin';
export const LOCK_FILE = '.counter.lock';
const TEMP_PREFIX = '.tmp-';
/** A deleted counter's directory on its way out; names cannot start with ".". */
export const TRASH_PREFIX = '.deleted-';
// Any valid value with generous whitespace fits; a longer file is corrupt and is not read whole.
const MAX_FILE_BYTES = 64;
const DIR_FSYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM']);

type FileState =
  { state: 'valid'; value: bigint } | { state: 'missing' } | { state: 'corrupt'; reason: string };

/** The changes a FileCounter commits; deletes are committed one by one with `remove`. */
export type FileOperation = { add: bigint } | { set: bigint };

/**
 * One counter's directory: `data.bin`, `backup.bin` and the lock file, and the only code that
 * touches them. Reads take no lock: every write is an atomic rename, so a reader sees the old
 * or the new value, never a mix. A commit takes the directory lock, reads, writes and fsyncs
 * once for a whole batch of changes (group commit is queued above, in `Counters`).
 */
export class FileCounter {
  readonly dataDir: string;
  private readonly dataPath: string;
  private readonly backupPath: string;
  private readonly lock: DirectoryLock;
  private readonly lockTimeoutMs: number;
  private readonly defaultWarn: Warn;
  private readonly createDirectory?: () => Promise<void>;
  private exclusiveTail: Promise<unknown> = Promise.resolve();
  private dirReady?: Promise<void>;
  // The directory was made by this process just now: a first change, not a lost file.
  private madeFresh = false;

  constructor(options: FileCounterOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.dataPath = path.join(this.dataDir, DATA_FILE);
    this.backupPath = path.join(this.dataDir, BACKUP_FILE);
    this.lock = new DirectoryLock(path.join(this.dataDir, LOCK_FILE), options.lockWait);
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.defaultWarn = options.warn ?? ((message) => console.warn(message));
    this.createDirectory = options.createDirectory;
  }

  /** True once this store has seen (or made) the counter's directory. */
  get hasDirectory(): boolean {
    return this.dirReady !== undefined;
  }

  /** The current value, healing `data.bin` first when it is missing or corrupt. */
  async read(warn: Warn = this.defaultWarn): Promise<bigint> {
    return (await this.readIfExists(warn)) ?? 0n;
  }

  /**
   * As `read`, but undefined for a named counter that does not exist: no directory, or one
   * holding neither file (made by a first change not yet written, or left by a process killed
   * before it wrote). Reading it must not create it.
   */
  async readIfExists(warn: Warn = this.defaultWarn): Promise<bigint | undefined> {
    if (!(await this.ensureDir(false))) return undefined;
    const current = await readValueFile(this.dataPath).catch(() => undefined);
    if (current?.state === 'valid') return current.value;
    try {
      return await this.exclusive(false, () => this.loadHealing(warn));
    } catch (err) {
      throw toStorageError(err);
    }
  }

  /**
   * Applies the changes in order under the directory lock with one read, one write and one
   * fsync, and resolves once the new value is durable: one outcome per change, an overflow
   * refusing only its own change.
   */
  async commit(
    operations: readonly FileOperation[],
    warn: Warn = this.defaultWarn,
  ): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const timer = commitTimer();
    try {
      await this.exclusive(true, async () => {
        timer.mark('lock_wait');
        const start = await this.loadHealing(warn);
        // A first change: the counter starts at 0 and exists once this commit is written.
        let value = start ?? 0n;
        for (const operation of operations) {
          const next = 'set' in operation ? operation.set : value + operation.add;
          if (isInRange(next)) {
            value = next;
            outcomes.push(value);
          } else {
            outcomes.push(overflow(value, next - value));
          }
        }
        if (value !== start) await writeAtomically(this.dataPath, value, start, timer);
      });
    } catch (err) {
      countRefusal(err, operations.length);
      return operations.map(() => toStorageError(err));
    } finally {
      timer.done();
    }
    return outcomes;
  }

  /**
   * Removes a named counter's directory with its files, as one rename: a process killed
   * midway leaves the counter whole or gone, never half. Resolves to the value it held.
   */
  async remove(warn: Warn = this.defaultWarn): Promise<Outcome> {
    try {
      if (!(await this.ensureDir(false))) return notFound(this.dataDir);
      const removed = await this.exclusive(false, async () => {
        // A directory another process has just made holds no file until its first change is
        // written: that counter does not exist yet, and its first change must not be lost.
        const [data, backup] = await Promise.all([
          readValueFile(this.dataPath),
          readValueFile(this.backupPath),
        ]);
        if (data.state === 'missing' && backup.state === 'missing') return undefined;
        const value = await this.loadHealing(warn);
        if (value === undefined) return undefined;
        const parent = path.dirname(this.dataDir);
        const trash = path.join(
          parent,
          `${TRASH_PREFIX}${path.basename(this.dataDir)}-${uniqueSuffix()}`,
        );
        await fs.rename(this.dataDir, trash);
        await fsyncDirectory(parent);
        this.dirReady = undefined;
        // Processes waiting for the old lock find its path gone and start the counter anew.
        await fs.rm(trash, { recursive: true, force: true }).catch(() => undefined);
        return value;
      });
      return removed ?? notFound(this.dataDir);
    } catch (err) {
      countRefusal(err, 1);
      return toStorageError(err);
    }
  }

  /**
   * True when `backup.bin` does not hold what `data.bin` holds (missing, damaged or another
   * value), so a backup run can skip the counters nobody changed. Comparing values rather than
   * modification times sees the changes of other processes and replicas on any file system,
   * whatever its timestamp granularity or the clocks of its clients.
   */
  async changedSinceBackup(): Promise<boolean> {
    const [data, backup] = await Promise.all([
      readValueFile(this.dataPath),
      readValueFile(this.backupPath),
    ]);
    if (data.state === 'missing') return false;
    if (data.state === 'corrupt' || backup.state !== 'valid') return true;
    return data.value !== backup.value;
  }

  /** Copies the current value to `backup.bin`; resolves to the value backed up. */
  backup(warn: Warn = this.defaultWarn): Promise<bigint | undefined> {
    return this.exclusive(false, async () => {
      const value = await this.loadHealing(warn);
      if (value === undefined) return undefined;
      const previous = await readValueFile(this.backupPath);
      if (previous.state === 'corrupt') {
        const aside = await moveAside(this.backupPath);
        recordHealing('corrupt', 'new_backup');
        warn(
          `${BACKUP_FILE} was corrupt (${previous.reason}); kept it as ${aside} before writing a new backup`,
        );
      }
      await writeAtomically(this.backupPath, value);
      return value;
    });
  }

  /** Proves the directory takes writes right now (for health checks); changes nothing. */
  async probeWritable(): Promise<void> {
    await this.ensureDir(true);
    const probe = path.join(this.dataDir, `${TEMP_PREFIX}probe-${uniqueSuffix()}`);
    try {
      await fs.writeFile(probe, 'probe', { flag: 'wx' });
    } catch (err) {
      throw toStorageError(err);
    } finally {
      await fs.rm(probe, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Runs `task` alone: after earlier tasks of this process, and under the directory lock.
   * When a delete elsewhere removed the directory meanwhile (its lock file is gone), a change
   * (`create`) makes the counter again through the cap and runs there; anything else resolves
   * to undefined: there is no counter.
   */
  private exclusive<T>(create: boolean, task: () => Promise<T>): Promise<T | undefined> {
    const run = this.exclusiveTail.then(async () => {
      for (;;) {
        if (!(await this.ensureDir(create))) return undefined;
        let release: () => Promise<void>;
        try {
          release = await this.lock.acquire(this.lockTimeoutMs);
        } catch (err) {
          if (this.createDirectory === undefined || errnoOf(err) !== 'ENOENT') throw err;
          this.dirReady = undefined;
          continue;
        }
        try {
          return await task();
        } finally {
          await release();
        }
      }
    });
    this.exclusiveTail = run.catch(() => undefined);
    return run;
  }

  /**
   * Under the lock: the value of `data.bin`, restored from backup or reset to 0 first if
   * needed; undefined for a named counter holding neither file, which was never written.
   */
  private async loadHealing(warn: Warn): Promise<bigint | undefined> {
    const data = await readValueFile(this.dataPath);
    if (data.state === 'valid') return data.value;

    let cause = `${DATA_FILE} was missing`;
    if (data.state === 'corrupt') {
      const aside = await moveAside(this.dataPath);
      cause = `${DATA_FILE} was corrupt (${data.reason}; kept as ${aside})`;
    }
    const backup = await readValueFile(this.backupPath);
    if (backup.state === 'valid') {
      await writeAtomically(this.dataPath, backup.value);
      recordHealing(data.state, 'restored_from_backup');
      warn(`${this.describe()}: ${cause}; restored ${backup.value} from ${BACKUP_FILE}`);
      return backup.value;
    }
    // Both missing is damage only for the default counter, which exists from the start. A
    // named counter with neither file was never written; healing it would make it exist.
    if (
      this.createDirectory !== undefined &&
      data.state === 'missing' &&
      backup.state === 'missing'
    )
      return undefined;
    let backupCause = `${BACKUP_FILE} was missing`;
    if (backup.state === 'corrupt') {
      const aside = await moveAside(this.backupPath);
      backupCause = `${BACKUP_FILE} was corrupt too (${backup.reason}; kept as ${aside})`;
    }
    await writeAtomically(this.dataPath, 0n);
    // A directory this process has just made holds no file yet: a first change, nothing lost.
    const firstChange = this.madeFresh && data.state === 'missing' && backup.state === 'missing';
    this.madeFresh = false;
    if (!firstChange) {
      recordHealing(data.state, 'reset_to_zero');
      warn(`${this.describe()}: ${cause} and ${backupCause}; starting again at 0`);
    }
    return 0n;
  }

  private describe(): string {
    return this.createDirectory === undefined
      ? 'the default counter'
      : `counter "${path.basename(this.dataDir)}"`;
  }

  /** Resolves to false only for a read of a named counter whose directory does not exist. */
  private async ensureDir(forChange: boolean): Promise<boolean> {
    // Made or found once. If it vanishes later we answer 503 until it is back rather than
    // recreate it empty, which would silently restart the counter at 0 (a named counter's
    // directory removed by a delete is the exception: `exclusive` sees its lock go and
    // starts again here). Callers racing here may both make it: mkdir -p and
    // createDirectory are idempotent.
    if (this.dirReady === undefined) {
      try {
        if (!(await this.findOrMakeDir(forChange))) return false;
      } catch (err) {
        throw toStorageError(err);
      }
      this.dirReady ??= removeStaleTempFiles(this.dataDir);
    }
    await this.dirReady;
    return true;
  }

  private async findOrMakeDir(forChange: boolean): Promise<boolean> {
    if (this.createDirectory === undefined) {
      this.madeFresh = (await fs.mkdir(this.dataDir, { recursive: true })) !== undefined;
      return true;
    }
    if (await exists(this.dataDir)) return true;
    if (!forChange) return false;
    await this.createDirectory();
    this.madeFresh = true;
    return true;
  }
}

function notFound(dir: string): CounterError {
  return new CounterError(
    'notFound',
    `there is no counter "${path.basename(dir)}" (it was never changed, or was deleted)`,
  );
}

function overflow(value: bigint, delta: bigint): CounterError {
  const verb = delta > 0n ? `adding ${delta}` : `subtracting ${-delta}`;
  return new CounterError(
    'overflow',
    `${verb} would take the counter (${value}) outside the signed 64-bit range; it was not changed`,
  );
}

async function readValueFile(file: string): Promise<FileState> {
  let handle;
  try {
    handle = await fs.open(file, constants.O_RDONLY);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return { state: 'missing' };
    throw err;
  }
  try {
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_FILE_BYTES) {
      return { state: 'corrupt', reason: `it is longer than ${MAX_FILE_BYTES} bytes` };
    }
    const parsed = parseStoredValue(buffer.toString('latin1', 0, bytesRead));
    return parsed.ok
      ? { state: 'valid', value: parsed.value }
      : { state: 'corrupt', reason: parsed.reason };
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` with `value`: unique temp file, write, fsync, rename, fsync of the
 * directory. If the directory fsync fails after the rename, `previous` (when given) is put
 * back so that a failed change leaves the value as it was.
 */
export async function writeAtomically(
  file: string,
  value: bigint,
  previous?: bigint,
  timer?: CommitTimer,
): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `${TEMP_PREFIX}${path.basename(file)}-${uniqueSuffix()}`);
  try {
    const handle = await fs.open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(value.toString(), 'latin1');
      timer?.mark('write');
      await handle.sync();
      timer?.mark('fsync');
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
    timer?.mark('write');
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  try {
    await fsyncDirectory(dir);
    timer?.mark('fsync');
  } catch (err) {
    if (previous !== undefined) await writeAtomically(file, previous).catch(() => undefined);
    throw err;
  }
}

export async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await fs.open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch (err) {
    if (!DIR_FSYNC_UNSUPPORTED.has(errnoOf(err) ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Renames a damaged file to `<name>.corrupt-<UTC time>`, adding `-1`, `-2`... when that name
 * is taken: two damaged copies in one millisecond must not share a name, or the rename would
 * delete the first. Runs under the directory lock, so no other writer races the check.
 */
async function moveAside(file: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/:/g, '-');
  const base = `${path.basename(file)}.corrupt-${stamp}`;
  for (let n = 0; ; n++) {
    const aside = n === 0 ? base : `${base}-${n}`;
    const target = path.join(path.dirname(file), aside);
    if (await exists(target)) continue;
    await fs.rename(file, target);
    return aside;
  }
}

export const exists = (file: string): Promise<boolean> =>
  fs.lstat(file).then(
    () => true,
    (err: unknown) => {
      if (errnoOf(err) === 'ENOENT') return false;
      throw err;
    },
  );

// Temp files of a process killed mid-write; young ones may belong to a live writer.
async function removeStaleTempFiles(dir: string): Promise<void> {
  const cutoff = Date.now() - 60_000;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(TEMP_PREFIX))) {
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat && stat.mtimeMs < cutoff) await fs.rm(file, { force: true }).catch(() => undefined);
  }
}

const uniqueSuffix = () => `${process.pid}-${randomBytes(6).toString('hex')}`;

const STORAGE_CAUSES: Record<string, string> = {
  ENOSPC: 'the data directory is full',
  EDQUOT: 'the data directory is over its quota',
  EROFS: 'the data directory is read-only',
  EACCES: 'the service may not write to the data directory',
  EPERM: 'the service may not write to the data directory',
  ENOENT: 'the data directory is missing',
  ENOTDIR: 'the data directory path is not a directory',
  EIO: 'the disk reported an I/O error',
};

/**
 * Counts `changes` refused by storage, by cause. Refusals of another kind (the cap on named
 * counters) are not storage's. A named counter's creation hands its failure over already
 * turned into a CounterError, with the errno kept as its cause.
 */
function countRefusal(err: unknown, changes: number): void {
  if (err instanceof CounterError && err.kind !== 'storageUnavailable') return;
  recordRefusal(refusalCause(err instanceof CounterError ? err.cause : err), changes);
}

function refusalCause(err: unknown): RefusalCause {
  if (err instanceof LockTimeoutError) return 'lock_timeout';
  const code = errnoOf(err);
  if (code === 'EDQUOT') return 'ENOSPC';
  return code === 'ENOSPC' || code === 'EROFS' || code === 'EIO' ? code : 'other';
}

/** Turns any failure inside a commit into the 503-kind error a client sees. */
export function toStorageError(err: unknown): CounterError {
  if (err instanceof CounterError) return err;
  if (err instanceof LockTimeoutError) {
    return storageUnavailable(
      `storage is busy: ${err.message}; nothing was changed, try again`,
      err,
    );
  }
  const code = errnoOf(err);
  const cause = (code && STORAGE_CAUSES[code]) ?? `storage failed (${code ?? 'unknown error'})`;
  return storageUnavailable(`${cause}; nothing was changed, try again later`, err);
}
