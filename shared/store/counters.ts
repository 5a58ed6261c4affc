import { performance } from 'node:perf_hooks';
import { CounterError } from '../errors';
import { recordCommit, type ChangeKind } from '../metrics';
import type {
  BackupRun,
  Change,
  CounterEntry,
  CounterName,
  ListQuery,
  Operation,
  Outcome,
  StorageEngine,
  Warn,
} from './engine';

export interface CountersOptions {
  /** Off: one change per commit (the benchmark's baseline). */
  groupCommit?: boolean;
  warn?: Warn;
  /** Called once a change is durable, with the counter's name; watchers hang on it. */
  onChange?: (name: CounterName) => void;
}

interface Pending {
  change: Change;
  warn: Warn;
  resolve: (value: bigint) => void;
  reject: (error: Error) => void;
}

/** The changes waiting for one batch key, and whether a commit of theirs is in flight. */
interface Lane {
  queue: Pending[];
  committing: boolean;
}

/**
 * The reads of one counter: the one in flight, and the one that starts once it settles, which
 * every reader arriving meanwhile shares.
 */
interface ReadLane {
  inFlight: Promise<bigint>;
  next?: Promise<bigint>;
}

/**
 * Every counter, on whichever engine stores them. Changes are group-committed: while one
 * commit of a batch key is in flight, new changes with that key queue up and all go into the
 * next commit together, in arrival order, each caller still getting the value right after
 * its own change. The engine decides what may share a commit (StorageEngine.batchKey).
 */
export class Counters {
  private readonly lanes = new Map<string, Lane>();
  private readonly reads = new Map<CounterName, ReadLane>();
  private readonly groupCommit: boolean;
  private readonly defaultWarn: Warn;

  constructor(
    readonly engine: StorageEngine,
    private readonly options: CountersOptions = {},
  ) {
    this.groupCommit = options.groupCommit ?? true;
    this.defaultWarn = options.warn ?? ((message) => console.warn(message));
  }

  /**
   * The value of a counter (`undefined`: the default one); a never-changed name reads 0.
   * Reads are shared as changes are: while one read of a counter is in flight, the readers
   * that arrive wait for the next, which starts when it settles and answers them all. Each
   * reader so gets a value read after it arrived, so it sees every change acknowledged before
   * (in any process), at one storage read per batch of readers instead of one per reader.
   */
  read(name: CounterName, warn: Warn = this.defaultWarn): Promise<bigint> {
    const lane = this.reads.get(name);
    if (lane === undefined) return this.startRead(name, warn);
    lane.next ??= lane.inFlight.then(
      () => this.startRead(name, warn),
      () => this.startRead(name, warn),
    );
    return lane.next;
  }

  private startRead(name: CounterName, warn: Warn): Promise<bigint> {
    const inFlight = this.engine.read(name, warn);
    const lane: ReadLane = { inFlight };
    this.reads.set(name, lane);
    const settled = () => {
      // The lane's next read, if any, replaces it as the one in flight (startRead again).
      if (this.reads.get(name) === lane && lane.next === undefined) this.reads.delete(name);
    };
    inFlight.then(settled, settled);
    return inFlight;
  }

  /** Adds `delta` (which may be negative); resolves once the new value is durable. */
  add(name: CounterName, delta: bigint, warn?: Warn): Promise<bigint> {
    return this.change(name, { add: delta }, warn);
  }

  /** Replaces the value, in the same order as the changes around it; resolves once durable. */
  set(name: CounterName, value: bigint, warn?: Warn): Promise<bigint> {
    return this.change(name, { set: value }, warn);
  }

  /** Removes a named counter; resolves to the value it held once the removal is durable. */
  delete(name: string, warn?: Warn): Promise<bigint> {
    return this.change(name, { delete: true }, warn);
  }

  list(query: ListQuery): Promise<CounterEntry[]> {
    return this.engine.list(query);
  }

  countNamed(): Promise<number> {
    return this.engine.countNamed();
  }

  /** Backs up the default counter and every named counter changed since its last backup. */
  backup(warn: Warn = this.defaultWarn): Promise<BackupRun> {
    return this.engine.backup(warn);
  }

  probe(): Promise<void> {
    return this.engine.probe();
  }

  close(): Promise<void> {
    return this.engine.close();
  }

  private change(name: CounterName, operation: Operation, warn = this.defaultWarn) {
    return new Promise<bigint>((resolve, reject) => {
      const key = this.engine.batchKey(name);
      let lane = this.lanes.get(key);
      if (lane === undefined) {
        lane = { queue: [], committing: false };
        this.lanes.set(key, lane);
      }
      lane.queue.push({ change: { name, operation }, warn, resolve, reject });
      if (!lane.committing) void this.drain(key, lane);
    });
  }

  private async drain(key: string, lane: Lane): Promise<void> {
    lane.committing = true;
    while (lane.queue.length > 0) {
      const batch = this.groupCommit ? lane.queue.splice(0) : lane.queue.splice(0, 1);
      await this.commit(batch);
    }
    lane.committing = false;
    // Lanes come and go with the names in use, so an idle one is not kept.
    this.lanes.delete(key);
  }

  private async commit(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    const started = performance.now();
    try {
      outcomes = await this.engine.commit(
        batch.map((pending) => pending.change),
        batch[0].warn,
      );
    } catch (error) {
      recordCommit(batch.length, (performance.now() - started) / 1000, []);
      batch.forEach((pending) => pending.reject(error as Error));
      return;
    }
    const changed = new Set<CounterName>();
    const made: ChangeKind[] = [];
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof CounterError) {
        pending.reject(outcome);
      } else {
        changed.add(pending.change.name);
        made.push(kindOf(pending.change.operation));
        pending.resolve(outcome);
      }
    });
    recordCommit(batch.length, (performance.now() - started) / 1000, made);
    for (const name of changed) this.options.onChange?.(name);
  }
}

function kindOf(operation: Operation): ChangeKind {
  if ('delete' in operation) return 'delete';
  if ('set' in operation) return 'set';
  return operation.add < 0n ? 'decrement' : 'increment';
}
