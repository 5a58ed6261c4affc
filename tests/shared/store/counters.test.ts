import { CounterError } from '../../../shared/errors';
import { Counters } from '../../../shared/store/counters';
import type { Change, Outcome, StorageEngine } from '../../../shared/store/engine';

/**
 * An engine that keeps values in memory and records each commit, holding a commit open
 * until the test lets it finish: what Counters does above any engine, seen from below.
 */
class RecordingEngine implements StorageEngine {
  readonly kind = 'recording';
  readonly commits: Change[][] = [];
  private readonly values = new Map<string, bigint>();
  private readonly held: Array<() => void> = [];

  constructor(private readonly key: (name: string | undefined) => string) {}

  batchKey(name: string | undefined): string {
    return this.key(name);
  }

  async commit(changes: readonly Change[]): Promise<Outcome[]> {
    this.commits.push([...changes]);
    await new Promise<void>((resolve) => this.held.push(resolve));
    return changes.map(({ name, operation }) => {
      const current = this.values.get(name ?? '') ?? 0n;
      if ('delete' in operation) {
        this.values.delete(name ?? '');
        return current;
      }
      const next = 'set' in operation ? operation.set : current + operation.add;
      if (next > 100n) return new CounterError('overflow', 'past 100');
      this.values.set(name ?? '', next);
      return next;
    });
  }

  /** Lets every commit in flight finish. */
  release(): void {
    this.held.splice(0).forEach((resolve) => resolve());
  }

  readonly reads: Array<string | undefined> = [];
  /** While true, a read takes its value when it starts and answers once released. */
  holdReads = false;
  /** The next read to start fails instead. */
  failNextRead = false;

  async read(name: string | undefined): Promise<bigint> {
    this.reads.push(name);
    const value = this.values.get(name ?? '') ?? 0n;
    const fail = this.failNextRead;
    this.failNextRead = false;
    if (this.holdReads) await new Promise<void>((resolve) => this.held.push(resolve));
    if (fail) throw new CounterError('storageUnavailable', 'storage away');
    return value;
  }

  /** A change made elsewhere (another process), acknowledged there. */
  changedElsewhere(name: string | undefined, value: bigint): void {
    this.values.set(name ?? '', value);
  }
  async list() {
    return [];
  }
  async countNamed() {
    return 0;
  }
  async backup() {
    return { defaultValue: 0n, named: 0, failed: [] };
  }
  async probe() {}
  async close() {}
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function settle(engine: RecordingEngine, promises: Array<Promise<unknown>>) {
  const settled = Promise.allSettled(promises);
  for (let i = 0; i < 10; i++) {
    engine.release();
    await tick();
  }
  return settled;
}

describe('Counters above any engine', () => {
  it('puts the changes that wait while a commit is in flight into the next commit, in arrival order', async () => {
    const engine = new RecordingEngine(() => 'all');
    const counters = new Counters(engine);
    const first = counters.add('a', 1n);
    await tick();
    const waiting = [counters.add('b', 2n), counters.set('a', 10n), counters.add('a', 1n)];
    const results = await settle(engine, [first, ...waiting]);
    expect(engine.commits.map((batch) => batch.length)).toEqual([1, 3]);
    expect(engine.commits[1].map((c) => c.name)).toEqual(['b', 'a', 'a']);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
      1n,
      2n,
      10n,
      11n,
    ]);
  });

  it('commits changes of different batch keys without waiting for each other', async () => {
    const engine = new RecordingEngine((name) => name ?? '');
    const counters = new Counters(engine);
    const changes = [counters.add('a', 1n), counters.add('b', 1n), counters.add(undefined, 1n)];
    await tick();
    expect(engine.commits).toHaveLength(3);
    await settle(engine, changes);
  });

  it('refuses only the change whose outcome is an error, and tells watchers of the rest', async () => {
    const engine = new RecordingEngine(() => 'all');
    const changed: Array<string | undefined> = [];
    const counters = new Counters(engine, { onChange: (name) => changed.push(name) });
    const results = await settle(engine, [
      counters.add('a', 99n),
      counters.add('a', 5n),
      counters.add('b', 1n),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(changed.sort()).toEqual(['a', 'b']);
  });

  it('commits one change at a time with group commit off', async () => {
    const engine = new RecordingEngine(() => 'all');
    const counters = new Counters(engine, { groupCommit: false });
    await settle(engine, [counters.add('a', 1n), counters.add('a', 1n), counters.add('a', 1n)]);
    expect(engine.commits.map((batch) => batch.length)).toEqual([1, 1, 1]);
  });

  describe('reads', () => {
    it('answers the readers that arrive while a read is in flight with one read that starts after it, so each sees every change acknowledged before it asked', async () => {
      const engine = new RecordingEngine(() => 'all');
      engine.holdReads = true;
      const counters = new Counters(engine);
      const early = counters.read('a');
      await tick();
      engine.changedElsewhere('a', 7n);
      const late = [counters.read('a'), counters.read('a'), counters.read('a')];
      const results = await settle(engine, [early, ...late]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
        0n,
        7n,
        7n,
        7n,
      ]);
      expect(engine.reads).toEqual(['a', 'a']);
    });

    it('reads each counter for itself', async () => {
      const engine = new RecordingEngine(() => 'all');
      engine.holdReads = true;
      const counters = new Counters(engine);
      const reads = [counters.read('a'), counters.read('b'), counters.read(undefined)];
      await tick();
      expect(engine.reads).toEqual(['a', 'b', undefined]);
      await settle(engine, reads);
    });

    it('does not hand a failed read to the readers waiting for the next one', async () => {
      const engine = new RecordingEngine(() => 'all');
      engine.holdReads = true;
      engine.failNextRead = true;
      const counters = new Counters(engine);
      const failing = counters.read('a');
      await tick();
      const next = counters.read('a');
      const results = await settle(engine, [failing, next]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
      expect(engine.reads).toEqual(['a', 'a']);
    });

    it('starts a new read for a reader that comes after the last one settled', async () => {
      const engine = new RecordingEngine(() => 'all');
      const counters = new Counters(engine);
      expect(await counters.read('a')).toBe(0n);
      engine.changedElsewhere('a', 3n);
      expect(await counters.read('a')).toBe(3n);
      expect(engine.reads).toEqual(['a', 'a']);
    });
  });
});
