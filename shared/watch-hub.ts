import { CounterError } from './errors';
import type { CounterName, StorageEngine } from './store/engine';

export interface WatchHubOptions {
  /** The counter's current value, read from its file: where every process's changes land. */
  read: (name: string | undefined) => Promise<bigint>;
  /** How many watchers this process serves at once (COUNTER_MAX_WATCHERS). */
  maxWatchers: number;
  /** How often a watched counter's file is read for changes of other processes; default 250 ms. */
  pollIntervalMs?: number;
  /**
   * The engine's feed of changes made elsewhere (PostgreSQL's LISTEN/NOTIFY). With it,
   * nothing polls: a watched counter is read again when the feed names it, and every watched
   * counter when the feed was lost and regained.
   */
  subscribe?: StorageEngine['subscribe'];
  warn?: (message: string) => void;
}

export const DEFAULT_POLL_INTERVAL_MS = 250;

/**
 * Who watches which counter in this process, and the one reader per watched counter that
 * tells them its value. Changes made by this process refresh the value at once (see
 * `changed`); changes of other processes and replicas are found by reading the counter's
 * file every `pollIntervalMs`, which works on network mounts (NFS, Azure Files) where file
 * notifications see nothing: opening the file revalidates it there. Only watched counters are
 * read, and nothing runs when no one watches.
 */
export class WatchHub {
  private readonly channels = new Map<string, Channel>();
  private count = 0;
  private unsubscribe?: () => void;

  constructor(private readonly options: WatchHubOptions) {}

  /** How many watchers are open. */
  get size(): number {
    return this.count;
  }

  /**
   * A new watcher of a counter (`undefined`: the default one), holding its current value.
   * Throws a 503-kind error beyond `maxWatchers`, or when the value cannot be read.
   */
  async watch(name: string | undefined): Promise<Watcher> {
    if (this.count >= this.options.maxWatchers) {
      throw new CounterError(
        'tooManyWatchers',
        `this process already serves ${this.count} watchers, the most COUNTER_MAX_WATCHERS allows; try again later`,
      );
    }
    const key = name ?? '';
    let channel = this.channels.get(key);
    if (channel === undefined) {
      channel = new Channel(name, this.options);
      this.channels.set(key, channel);
    }
    this.count++;
    this.unsubscribe ??= this.options.subscribe?.(
      (changed) => this.changed(changed),
      () => this.refreshAll(),
    );
    const joined = channel;
    const watcher = new Watcher(() => {
      this.count--;
      if (joined.remove(watcher) === 0) this.channels.delete(key);
      // The feed costs a connection: it is held only while someone watches.
      if (this.count === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    });
    joined.add(watcher);
    try {
      await joined.refresh();
    } catch (error) {
      watcher.close();
      throw error;
    }
    return watcher;
  }

  /** Called once a change is committed (here, or elsewhere per the feed): watchers hear of it. */
  changed(name: CounterName): void {
    this.channels
      .get(name ?? '')
      ?.refresh()
      .catch(() => undefined);
  }

  private refreshAll(): void {
    for (const channel of this.channels.values()) channel.refresh().catch(() => undefined);
  }

  /** Ends every watcher (their streams end); for shutdown and tests. */
  closeAll(): void {
    for (const channel of [...this.channels.values()]) channel.closeAll();
  }
}

/** The watchers of one counter and its reader. */
class Channel {
  private readonly watchers = new Set<Watcher>();
  private readonly pollIntervalMs: number;
  private latest?: bigint;
  private inFlight?: Promise<void>;
  private following?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly name: string | undefined,
    private readonly options: WatchHubOptions,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  add(watcher: Watcher): void {
    this.watchers.add(watcher);
    if (this.latest !== undefined) watcher.offer(this.latest);
    if (this.timer === undefined && this.options.subscribe === undefined) {
      this.timer = setInterval(
        () => void this.refresh().catch(() => undefined),
        this.pollIntervalMs,
      );
      // Watching alone must not keep a process alive that is otherwise done.
      this.timer.unref();
    }
  }

  /** Removes a watcher; returns how many remain. The reader stops with the last one. */
  remove(watcher: Watcher): number {
    this.watchers.delete(watcher);
    if (this.watchers.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return this.watchers.size;
  }

  closeAll(): void {
    for (const watcher of [...this.watchers]) watcher.close();
  }

  /**
   * Resolves after a read of the file that began after this call. Reads never overlap, so
   * values reach the watchers in the order the file held them; a read already in flight may
   * have begun before the change that asks for this one, so one more follows it, shared by
   * every call made meanwhile.
   */
  refresh(): Promise<void> {
    if (this.inFlight === undefined) {
      this.inFlight = this.readOnce().finally(() => {
        this.inFlight = undefined;
      });
      return this.inFlight;
    }
    this.following ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.following = undefined;
        return this.refresh();
      });
    return this.following;
  }

  private async readOnce(): Promise<void> {
    let value: bigint;
    try {
      value = await this.options.read(this.name);
    } catch (error) {
      // Polling goes on: storage that fails for a moment must not end every stream. One
      // warning per outage, not one every poll.
      if (!this.failing) {
        this.failing = true;
        this.options.warn?.(
          `watch: cannot read counter ${this.name ?? '(default)'}: ${(error as Error).message}`,
        );
      }
      throw error;
    }
    this.failing = false;
    // The same value again is no change: no event, so one change never makes two.
    if (value === this.latest) return;
    this.latest = value;
    for (const watcher of this.watchers) watcher.offer(value);
  }
}

/**
 * One client's view of a counter: at most the latest value not yet taken, so a slow client
 * costs one value however many changes it misses.
 */
export class Watcher {
  private pending?: bigint;
  private wake?: () => void;
  private closed = false;

  constructor(private readonly onClose: () => void) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Replaces the value not yet taken. */
  offer(value: bigint): void {
    this.pending = value;
    this.wake?.();
  }

  /**
   * Takes the newest value not yet taken, waiting up to `timeoutMs` for one; undefined when
   * the time passes first or the watcher is closed.
   */
  next(timeoutMs: number): Promise<bigint | undefined> {
    if (this.pending !== undefined || this.closed) return Promise.resolve(this.take());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(this.take());
      };
      const timer = setTimeout(done, timeoutMs);
      this.wake = done;
    });
  }

  /** Leaves the hub (idempotent); a waiting `next` resolves with undefined. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.wake?.();
    this.onClose();
  }

  private take(): bigint | undefined {
    const value = this.pending;
    this.pending = undefined;
    return value;
  }
}
