import type { CounterError } from '../errors';

/** Where healing and other notable events of one request are logged. */
export type Warn = (message: string) => void;

/** A counter's name as `parseCounterName` returns it; `undefined` is the default counter. */
export type CounterName = string | undefined;

/**
 * One change: add a delta (negative for decrement), replace the value (`PUT /set`), or remove
 * a named counter (`DELETE /counters/{name}`).
 */
export type Operation = { add: bigint } | { set: bigint } | { delete: true };

export interface Change {
  name: CounterName;
  operation: Operation;
}

/**
 * What one change did, in the order the changes were given: the counter's value right after
 * an add or a set; for a delete, the value the counter held when it was removed. A CounterError
 * refuses only its own change and leaves the counter as the change before left it: 'overflow'
 * (409), 'tooManyCounters' (507, the cap), 'notFound' (404, deleting a counter that does not
 * exist).
 */
export type Outcome = bigint | CounterError;

export interface CounterEntry {
  name: string;
  value: bigint;
}

/** Existing named counters, sorted by name (byte order), names > `after`, at most `limit`. */
export interface ListQuery {
  prefix?: string;
  after?: string;
  limit: number;
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
 * One storage engine: files in a directory, or a database. Everything common to every engine
 * (queueing and group commit, arrival order, telling watchers) sits above this interface in
 * `Counters`; an engine only commits a batch atomically, reads, lists, backs up, and tells of
 * changes made elsewhere.
 */
export interface StorageEngine {
  /** 'files' or 'postgres': shown by /health and in logs. */
  readonly kind: string;

  /**
   * Changes whose names share a key may go into one commit. The file engine commits one
   * counter at a time (its own lock and fsync), so its key is the name; a database commits
   * any counters in one transaction, so its key is the same for all.
   */
  batchKey(name: CounterName): string;

  /**
   * Applies `changes` in the order given, as one atomic step, and resolves only once that step
   * is durable, with one outcome per change. The cap on named counters (COUNTER_MAX_NAMED) is
   * enforced here, exactly across processes and replicas. Throws a 'storageUnavailable'
   * CounterError when storage refuses or is away (nothing was applied), or when the outcome is
   * unknown (the connection broke after COMMIT was sent): such a batch is never retried,
   * because it may have landed.
   */
  commit(changes: readonly Change[], warn: Warn): Promise<Outcome[]>;

  /** The current value; a counter never changed, or deleted, reads 0n and nothing is created. */
  read(name: CounterName, warn: Warn): Promise<bigint>;

  /** See ListQuery. */
  list(query: ListQuery): Promise<CounterEntry[]>;

  /** How many named counters exist. */
  countNamed(): Promise<number>;

  /**
   * Writes `backup.bin` (and `counters/<name>/backup.bin`) in the data directory, in the file
   * store's layout, for the default counter and every named counter changed since its last
   * backup.
   */
  backup(warn: Warn): Promise<BackupRun>;

  /**
   * Tells of changes made by other processes and replicas, as they happen. Engines that
   * cannot (files) leave it out, and watchers then poll. `onResync` is called after the
   * engine lost and regained its feed (a database restart): every watched value must be read
   * again. Returns the function that stops the feed.
   */
  subscribe?(onChange: (name: CounterName) => void, onResync: () => void): () => void;

  /** Proves storage takes writes right now, for /health; throws 'storageUnavailable'. */
  probe(): Promise<void>;

  /** Closes connections and handles; pending work is finished first. */
  close(): Promise<void>;
}
