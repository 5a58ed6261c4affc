import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isCounterName } from '../counter-name';
import { CounterError } from '../errors';
import { DirectoryLock } from './directory-lock';
import type {
  BackupRun,
  Change,
  CounterEntry,
  CounterName,
  ListQuery,
  Outcome,
  StorageEngine,
  Warn,
} from './engine';
import {
  exists,
  FileCounter,
  type FileOperation,
  fsyncDirectory,
  toStorageError,
  TRASH_PREFIX,
} from './file-counter';

export const COUNTERS_DIR = 'counters';
// Names cannot start with ".", so the lock file never collides with a counter's directory.
export const CREATION_LOCK_FILE = '.create.lock';
// Backups of different counters touch different files; a few at a time keep the disk busy
// without flooding libuv's thread pool, which the request handlers share.
const BACKUP_PARALLELISM = 8;
// Past this many, a process forgets the named counters it is not using: anyone may send
// changes to many names, and each FileCounter holds a little state.
const KEEP_COUNTERS = 1000;

export interface FilesEngineOptions {
  dataDir: string;
  maxNamed: number;
  lockTimeoutMs?: number;
  warn?: Warn;
}

/**
 * The file store: the default counter at the root of the data directory and the named ones
 * in `counters/<name>/`, each a FileCounter with its own lock and fsync, so counters never
 * wait on each other (the batch key is the name). Creating a named counter is the one step
 * that takes a shared lock, because the cap on their number must be decided by one process
 * at a time.
 */
export class FilesEngine implements StorageEngine {
  readonly kind = 'files';
  readonly defaultCounter: FileCounter;
  private readonly countersDir: string;
  private readonly creationLock: DirectoryLock;
  private readonly named = new Map<string, FileCounter>();
  // DirectoryLock is a lock between processes; within this one, creations queue here first.
  private creationTail: Promise<unknown> = Promise.resolve();
  private dataDirSeen = false;

  constructor(private readonly options: FilesEngineOptions) {
    this.defaultCounter = new FileCounter(options);
    this.countersDir = path.join(this.defaultCounter.dataDir, COUNTERS_DIR);
    // Named counters and creation poll for their locks, so that this process never has more
    // than one blocking lock call asleep on a worker thread (the default counter's).
    this.creationLock = new DirectoryLock(path.join(this.countersDir, CREATION_LOCK_FILE), 'poll');
  }

  get dataDir(): string {
    return this.defaultCounter.dataDir;
  }

  batchKey(name: CounterName): string {
    return name ?? '';
  }

  /**
   * All changes of a batch are for one counter (see batchKey). Adds and sets between deletes
   * go into one commit; a delete is a step of its own, so a batch holding one is committed
   * in steps, each durable before the next, and every change keeps its own outcome.
   */
  async commit(changes: readonly Change[], warn: Warn): Promise<Outcome[]> {
    const counter = this.counterFor(changes[0].name);
    const outcomes: Outcome[] = [];
    let run: FileOperation[] = [];
    const flush = async () => {
      if (run.length > 0) outcomes.push(...(await counter.commit(run, warn)));
      run = [];
    };
    for (const { name, operation } of changes) {
      if (!('delete' in operation)) {
        run.push(operation);
        continue;
      }
      await flush();
      outcomes.push(name === undefined ? cannotDeleteDefault() : await counter.remove(warn));
    }
    await flush();
    this.forgetIdle(changes[0].name);
    return outcomes;
  }

  async read(name: CounterName, warn: Warn): Promise<bigint> {
    if (name === undefined) return this.defaultCounter.read(warn);
    const known = this.named.get(name);
    if (known) return known.read(warn);
    // Only counters that exist are remembered: anyone can send reads of any name.
    const counter = this.newCounter(name);
    const value = await counter.read(warn);
    if (counter.hasDirectory && !this.named.has(name)) this.named.set(name, counter);
    return value;
  }

  async list({ prefix = '', after = '', limit }: ListQuery): Promise<CounterEntry[]> {
    const names = (
      await this.existingNames().catch((err: unknown) => Promise.reject(toStorageError(err)))
    )
      .filter((name) => name.startsWith(prefix) && name > after)
      .sort()
      .slice(0, limit);
    const entries = await Promise.all(
      names.map(async (name) => {
        const counter = this.named.get(name) ?? this.newCounter(name);
        const value = await counter.readIfExists();
        // Never written, or deleted between the listing and its read: gone, not 0.
        return value !== undefined && counter.hasDirectory ? { name, value } : undefined;
      }),
    );
    return entries.filter((entry) => entry !== undefined);
  }

  async countNamed(): Promise<number> {
    try {
      return (await this.existingNames()).length;
    } catch (err) {
      throw toStorageError(err);
    }
  }

  /** Backs up the default counter and every named counter changed since its last backup. */
  async backup(warn: Warn): Promise<BackupRun> {
    const defaultValue = (await this.defaultCounter.backup(warn)) ?? 0n;
    const names = await this.existingNames();
    let named = 0;
    const failed: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++];
        const counter = this.named.get(name) ?? this.newCounter(name);
        try {
          if (!(await counter.changedSinceBackup())) continue;
          // Undefined: deleted meanwhile, nothing to back up.
          if ((await counter.backup(warn)) !== undefined) named++;
        } catch {
          failed.push(name);
        }
      }
    };
    await Promise.all(Array.from({ length: BACKUP_PARALLELISM }, worker));
    return { defaultValue, named, failed };
  }

  probe(): Promise<void> {
    return this.defaultCounter.probeWritable();
  }

  async close(): Promise<void> {
    this.named.clear();
  }

  private counterFor(name: CounterName): FileCounter {
    if (name === undefined) return this.defaultCounter;
    let counter = this.named.get(name);
    if (counter === undefined) {
      counter = this.newCounter(name);
      this.named.set(name, counter);
    }
    return counter;
  }

  /** Keeps the map of counters from growing with every name anyone ever sent. */
  private forgetIdle(name: CounterName): void {
    if (name === undefined) return;
    // A change refused before the counter existed (the cap, a full disk), or a delete.
    if (this.named.get(name)?.hasDirectory === false) this.named.delete(name);
    for (const oldest of this.named.keys()) {
      if (this.named.size <= KEEP_COUNTERS) break;
      if (oldest !== name) this.named.delete(oldest);
    }
  }

  private newCounter(name: string): FileCounter {
    return new FileCounter({
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
      this.removeStaleTrash();
      return;
    }
    await fs.mkdir(this.countersDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }

  /** Directories of deletes whose process died before it could remove them. */
  private removeStaleTrash(): void {
    void fs
      .readdir(this.countersDir)
      .then((entries) =>
        Promise.all(
          entries
            .filter((entry) => entry.startsWith(TRASH_PREFIX))
            .map((entry) =>
              fs.rm(path.join(this.countersDir, entry), { recursive: true, force: true }),
            ),
        ),
      )
      .catch(() => undefined);
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

function cannotDeleteDefault(): CounterError {
  return new CounterError(
    'badRequest',
    'the default counter cannot be deleted; reset it with PUT /set instead',
  );
}
