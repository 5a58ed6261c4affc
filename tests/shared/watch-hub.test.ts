import { fileCounters } from '../support/file-counters';
import { CounterError } from '../../shared/errors';
import { WatchHub, type Watcher } from '../../shared/watch-hub';
import { tempDir } from '../support/temp-dir';

let dir: string;
let remove: () => void;
let hubs: WatchHub[];

beforeEach(() => {
  ({ dir, remove } = tempDir());
  hubs = [];
});
afterEach(() => {
  hubs.forEach((hub) => hub.closeAll());
  remove();
});

/** A process's counters and hub wired as shared/services wires them, counting file reads. */
function startProcess(options: { pollIntervalMs?: number; maxWatchers?: number } = {}) {
  const counters = fileCounters({
    dataDir: dir,
    maxNamed: 100,
    onChange: (n) => hub.changed(n),
    // The default counter's first read writes data.bin and warns that it was missing.
    warn: () => undefined,
  });
  const reads: Array<string | undefined> = [];
  const hub = new WatchHub({
    read: (name) => {
      reads.push(name);
      return counters.read(name);
    },
    maxWatchers: options.maxWatchers ?? 1000,
    // Long by default, so a test sees changes of its own process arrive without polling.
    pollIntervalMs: options.pollIntervalMs ?? 60_000,
  });
  hubs.push(hub);
  return { counters, hub, reads };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes values until `last` arrives (or 5 s pass), as a fast client would. */
async function valuesUntil(watcher: Watcher, last: bigint): Promise<bigint[]> {
  const seen: bigint[] = [];
  const deadline = Date.now() + 5_000;
  while (seen.at(-1) !== last && Date.now() < deadline) {
    const value = await watcher.next(100);
    if (value !== undefined) seen.push(value);
  }
  return seen;
}

describe('WatchHub', () => {
  it('gives a new watcher the current value first', async () => {
    const { counters, hub } = startProcess();
    await counters.add('visits', 41n);
    const watcher = await hub.watch('visits');
    expect(await watcher.next(0)).toBe(41n);
  });

  it('reads a never-changed name as 0 and creates nothing', async () => {
    const { hub } = startProcess();
    expect(await (await hub.watch('fresh')).next(0)).toBe(0n);
    expect(await fileCounters({ dataDir: dir, maxNamed: 1 }).read('fresh')).toBe(0n);
  });

  it('hears every change of its own process at once, in order, each once', async () => {
    const { counters, hub } = startProcess();
    const watcher = await hub.watch(undefined);
    expect(await watcher.next(0)).toBe(0n);
    const seen: bigint[] = [];
    for (let i = 1n; i <= 20n; i++) {
      await counters.add(undefined, 1n);
      seen.push(...(await valuesUntil(watcher, i)));
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
    expect(await watcher.next(50)).toBeUndefined();
  });

  it('finds the changes of another process by reading the file while someone watches', async () => {
    const watching = startProcess({ pollIntervalMs: 50 });
    const other = startProcess();
    const watcher = await watching.hub.watch('shared');
    expect(await watcher.next(0)).toBe(0n);
    await other.counters.add('shared', 5n);
    expect(await valuesUntil(watcher, 5n)).toEqual([5n]);
    await other.counters.add('shared', -2n);
    expect(await valuesUntil(watcher, 3n)).toEqual([3n]);
  });

  it('reads nothing for a counter no one watches, and stops reading when the last watcher leaves', async () => {
    const { hub, reads } = startProcess({ pollIntervalMs: 20 });
    await sleep(100);
    expect(reads).toEqual([]);
    const first = await hub.watch('a');
    const second = await hub.watch('a');
    await sleep(100);
    first.close();
    const whileOneWatches = reads.length;
    await sleep(100);
    expect(reads.length).toBeGreaterThan(whileOneWatches);
    second.close();
    const afterLast = reads.length;
    await sleep(100);
    expect(reads.length).toBe(afterLast);
    expect(new Set(reads)).toEqual(new Set(['a']));
  });

  it('keeps only the latest value for a watcher that does not take them (coalescing)', async () => {
    const { counters, hub } = startProcess();
    const slow = await hub.watch(undefined);
    const fast = await hub.watch(undefined);
    expect(await slow.next(0)).toBe(0n);
    expect(await fast.next(0)).toBe(0n);
    const fastSeen: bigint[] = [];
    for (let i = 1n; i <= 10n; i++) {
      await counters.add(undefined, 1n);
      fastSeen.push(...(await valuesUntil(fast, i)));
    }
    expect(fastSeen).toHaveLength(10);
    expect(await slow.next(0)).toBe(10n);
    expect(await slow.next(20)).toBeUndefined();
  });

  it('refuses the watcher beyond maxWatchers with a 503 kind, and takes one again when one leaves', async () => {
    const { hub } = startProcess({ maxWatchers: 3 });
    const watchers = [await hub.watch(undefined), await hub.watch('a'), await hub.watch('b')];
    await expect(hub.watch('c')).rejects.toMatchObject({ kind: 'tooManyWatchers' });
    expect(hub.size).toBe(3);
    watchers[1].close();
    watchers[1].close();
    expect(hub.size).toBe(2);
    await expect(hub.watch('c')).resolves.toBeDefined();
  });

  it('does not keep a watcher whose first read fails, and says why', async () => {
    const hub = new WatchHub({
      read: () => Promise.reject(new CounterError('storageUnavailable', 'the disk is gone')),
      maxWatchers: 10,
    });
    hubs.push(hub);
    await expect(hub.watch('x')).rejects.toMatchObject({ kind: 'storageUnavailable' });
    expect(hub.size).toBe(0);
  });

  it('wakes a waiting watcher with nothing when it is closed', async () => {
    const { hub } = startProcess();
    const watcher = await hub.watch(undefined);
    await watcher.next(0);
    const waiting = watcher.next(10_000);
    watcher.close();
    await expect(waiting).resolves.toBeUndefined();
    expect(watcher.isClosed).toBe(true);
  });
});
