import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isCounterName } from './counter-name';
import { DirectoryLock } from './directory-lock';
import { CounterError } from './errors';
import { CounterStore, exists, fsyncDirectory, toStorageError, type Warn } from './store';

export const COUNTERS_DIR = 'counters';
// Names cannot start with ".", so the lock file never collides with a counter's directory.
export const CREATION_LOCK_FILE = '.create.lock';
// Backups of different counters touch different files; a few at a time keep the disk busy
// without flooding libuv's thread pool, which the request handlers share.
const BACKUP_PARALLELISM = 8;

export interface CountersOptions {
  dataDir: string;
  maxNamed: number;
  groupCommit?: boolean;
  lockTimeoutMs?: number;
  warn?: Warn;
  /** Called after each change is durable, with the counter's name; watchers hang on it. */
  onChange?: (name: string | undefined) => void;
}

export interface BackupRun {
  /** The value of the default counter written to its backup.bin. */
  defaultValue: bigint;
  /** Named counters backed up because they changed since their last backup. */
  named: number;
  /** Named counters whose backup failed (they are tried again at the next run). */
  failed: string[];
}

/**
 * The default counter (files at the root of the data directory) and the named ones
 * (`counters/<name>/`), each a CounterStore with its own lock and group commit, so counters
 * never wait on each other. Creating a named counter is the one step that takes a shared
 * lock, because the cap on their number must be decided by one process at a time.
 */
export class Counters {
  readonly defaultCounter: CounterStore;
  private readonly countersDir: string;
  private readonly creationLock: DirectoryLock;
  private readonly stores = new Map<string, CounterStore>();
  // DirectoryLock is a lock between processes; within this one, creations queue here first.
  private creationTail: Promise<unknown> = Promise.resolve();
  private dataDirSeen = false;

  constructor(private readonly options: CountersOptions) {
    this.defaultCounter = new CounterStore(options);
    this.countersDir = path.join(this.defaultCounter.dataDir, COUNTERS_DIR);
    // Named counters and creation poll for their locks, so that this process never has more
    // than one flock(2) asleep on a worker thread (the default counter's).
    this.creationLock = new DirectoryLock(path.join(this.countersDir, CREATION_LOCK_FILE), 'poll');
  }

  /** The value of a counter (`undefined`: the default one); a never-changed name reads 0. */
  async read(name: string | undefined, warn?: Warn): Promise<bigint> {
    if (name === undefined) return this.defaultCounter.read(warn);
    const known = this.stores.get(name);
    if (known) return known.read(warn);
    // Only counters that exist are remembered: anyone can send reads of any name.
    const store = this.newStore(name);
    const value = await store.read(warn);
    if (store.hasDirectory && !this.stores.has(name)) this.stores.set(name, store);
    return value;
  }

  add(name: string | undefined, delta: bigint, warn?: Warn): Promise<bigint> {
    return this.change(name, (store) => store.add(delta, warn));
  }

  set(name: string | undefined, value: bigint, warn?: Warn): Promise<bigint> {
    return this.change(name, (store) => store.set(value, warn));
  }

  /** Backs up the default counter and every named counter changed since its last backup. */
  async backup(warn?: Warn): Promise<BackupRun> {
    const defaultValue = await this.defaultCounter.backup(warn);
    const names = await this.existingNames();
    let named = 0;
    const failed: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++];
        const store = this.stores.get(name) ?? this.newStore(name);
        try {
          if (!(await store.changedSinceBackup())) continue;
          await store.backup(warn);
          named++;
        } catch {
          failed.push(name);
        }
      }
    };
    await Promise.all(Array.from({ length: BACKUP_PARALLELISM }, worker));
    return { defaultValue, named, failed };
  }

  private async change(
    name: string | undefined,
    apply: (store: CounterStore) => Promise<bigint>,
  ): Promise<bigint> {
    if (name === undefined) {
      const value = await apply(this.defaultCounter);
      this.options.onChange?.(name);
      return value;
    }
    let store = this.stores.get(name);
    if (store === undefined) {
      store = this.newStore(name);
      this.stores.set(name, store);
    }
    try {
      const value = await apply(store);
      this.options.onChange?.(name);
      return value;
    } catch (err) {
      // A change refused before the counter existed (the cap, a full disk) leaves no entry.
      if (!store.hasDirectory && this.stores.get(name) === store) this.stores.delete(name);
      throw err;
    }
  }

  private newStore(name: string): CounterStore {
    return new CounterStore({
      ...this.options,
      dataDir: path.join(this.countersDir, name),
      createDirectory: () => this.createNamed(name),
      lockWait: 'poll',
    });
  }

  /**
   * Makes `counters/<name>/` unless the cap is reached. Counting and making happen under one
   * lock shared by all processes, so replicas creating counters at once cannot together
   * pass the cap; a counter that already exists takes no lock at all.
   */
  private createNamed(name: string): Promise<void> {
    const run = this.creationTail.then(() => this.createUnderLock(name));
    this.creationTail = run.catch(() => undefined);
    return run;
  }

  private async createUnderLock(name: string): Promise<void> {
    let release: (() => Promise<void>) | undefined;
    try {
      await this.makeCountersDir();
      release = await this.creationLock.acquire(this.options.lockTimeoutMs ?? 5000);
      const dir = path.join(this.countersDir, name);
      if (await exists(dir)) return;
      const count = (await this.existingNames()).length;
      if (count >= this.options.maxNamed) {
        throw new CounterError(
          'tooManyCounters',
          `there are already ${count} named counters, the most COUNTER_MAX_NAMED (${this.options.maxNamed}) allows; "${name}" was not created`,
        );
      }
      await fs.mkdir(dir);
      await fsyncDirectory(this.countersDir);
    } catch (err) {
      throw toStorageError(err);
    } finally {
      await release?.();
    }
  }

  /**
   * The data directory is made when missing only at this process's first creation, as the
   * default counter does: if it vanishes later (a volume unmounted), recreating it empty
   * would hide the real counters, so that is a 503 instead.
   */
  private async makeCountersDir(): Promise<void> {
    if (!this.dataDirSeen) {
      await fs.mkdir(this.countersDir, { recursive: true });
      this.dataDirSeen = true;
      return;
    }
    await fs.mkdir(this.countersDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }

  private async existingNames(): Promise<string[]> {
    const entries = await fs
      .readdir(this.countersDir, { withFileTypes: true })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [];
        throw err;
      });
    return entries
      .filter((entry) => entry.isDirectory() && isCounterName(entry.name))
      .map((entry) => entry.name);
  }
}
