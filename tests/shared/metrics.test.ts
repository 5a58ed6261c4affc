import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { registry } from '../../shared/metrics';
import { Counters } from '../../shared/store/counters';
import { DirectoryLock } from '../../shared/store/directory-lock';
import { LOCK_FILE } from '../../shared/store/file-counter';
import { FilesEngine } from '../../shared/store/files';
import { Scrape } from '../../bench/scrape';
import { mountTmpfs, tempDir } from '../support/temp-dir';

/**
 * The store's metrics after a known workload: each test reads the registry before and after,
 * so the figures it checks are what that workload alone added.
 */

let scratch: ReturnType<typeof tempDir>;
beforeEach(() => {
  scratch = tempDir('rusty-counter-metrics-');
});
afterEach(() => scratch.remove());

const scrape = async () => new Scrape(await registry.metrics());
const quiet = () => undefined;

function countersIn(dataDir: string, lockTimeoutMs = 5000): Counters {
  return new Counters(new FilesEngine({ dataDir, maxNamed: 10, lockTimeoutMs, warn: quiet }), {
    warn: quiet,
  });
}

const changes = (s: Scrape, kind: string) => s.value('rusty_counter_changes_total', { kind });
const refusals = (s: Scrape, cause: string) =>
  s.value('rusty_counter_storage_refusals_total', { cause });
const healings = (s: Scrape, cause: string, result: string) =>
  s.value('rusty_counter_healings_total', { cause, result });
const totalOf = (s: Scrape, name: string) => s.total(name);

/** Commits that recorded `phase`, from prom-client's own reading of the histogram. */
async function phaseCount(phase: string): Promise<number> {
  const metric = registry.getSingleMetric('rusty_counter_commit_phase_duration_seconds');
  // A histogram's values name their series (`_bucket`, `_sum`, `_count`); the types omit it.
  const { values } = (await metric!.get()) as {
    values: Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>;
  };
  const count = values.find(
    (v) =>
      v.metricName === 'rusty_counter_commit_phase_duration_seconds_count' &&
      v.labels.phase === phase,
  );
  return count?.value ?? 0;
}

const PHASES = ['lock_wait', 'write', 'fsync'];

describe('changes', () => {
  it('counts N increments as N more, and each other kind apart', async () => {
    const counters = countersIn(scratch.dir);
    const before = await scrape();
    for (let i = 0; i < 7; i++) await counters.add(undefined, 1n);
    await counters.add('visits', -2n);
    await counters.set('visits', 40n);
    await counters.delete('visits');
    const after = await scrape();

    expect(changes(after, 'increment') - changes(before, 'increment')).toBe(7);
    expect(changes(after, 'decrement') - changes(before, 'decrement')).toBe(1);
    expect(changes(after, 'set') - changes(before, 'set')).toBe(1);
    expect(changes(after, 'delete') - changes(before, 'delete')).toBe(1);
  });

  it('does not count a change refused for overflow', async () => {
    const counters = countersIn(scratch.dir);
    await counters.set(undefined, 2n ** 63n - 1n);
    const before = await scrape();
    await expect(counters.add(undefined, 1n)).rejects.toMatchObject({ kind: 'overflow' });
    expect(changes(await scrape(), 'increment')).toBe(changes(before, 'increment'));
  });

  it('counts the changes group commit writes together as one batch', async () => {
    const counters = countersIn(scratch.dir);
    await counters.add(undefined, 1n);
    const before = await scrape();
    const phasesBefore = await Promise.all(PHASES.map(phaseCount));
    await Promise.all(Array.from({ length: 50 }, () => counters.add(undefined, 1n)));
    const after = await scrape();
    const phasesAfter = await Promise.all(PHASES.map(phaseCount));

    const batches = after.count('rusty_counter_commit_batch_size');
    const commits = batches - before.count('rusty_counter_commit_batch_size');
    // The first change commits alone; the 49 that queued meanwhile share the next commits.
    expect(commits).toBeGreaterThanOrEqual(2);
    expect(commits).toBeLessThan(50);
    const sumOf = (s: Scrape) => s.sum('rusty_counter_commit_batch_size');
    expect(sumOf(after) - sumOf(before)).toBe(50);
    // Every commit waited for the lock, wrote and fsynced once.
    expect(phasesAfter.map((n, i) => n - phasesBefore[i])).toEqual([commits, commits, commits]);
  });
});

describe('healings', () => {
  it('counts a corrupt data.bin restored from backup.bin as one healing', async () => {
    writeFileSync(path.join(scratch.dir, 'data.bin'), 'not a number');
    writeFileSync(path.join(scratch.dir, 'backup.bin'), '41');
    const counters = countersIn(scratch.dir);
    const before = await scrape();
    await expect(counters.add(undefined, 1n)).resolves.toBe(42n);
    await expect(counters.add(undefined, 1n)).resolves.toBe(43n);
    const after = await scrape();

    expect(healings(after, 'corrupt', 'restored_from_backup')).toBe(
      healings(before, 'corrupt', 'restored_from_backup') + 1,
    );
    expect(totalOf(after, 'rusty_counter_healings_total')).toBe(
      totalOf(before, 'rusty_counter_healings_total') + 1,
    );
  });

  it('counts a corrupt data.bin with no backup as one reset to zero, and a first change as none', async () => {
    const counters = countersIn(scratch.dir);
    const before = await scrape();
    await counters.add('fresh', 1n);
    const created = await scrape();
    expect(totalOf(created, 'rusty_counter_healings_total')).toBe(
      totalOf(before, 'rusty_counter_healings_total'),
    );

    writeFileSync(path.join(scratch.dir, 'counters', 'fresh', 'data.bin'), '');
    await expect(counters.add('fresh', 1n)).resolves.toBe(1n);
    const after = await scrape();
    expect(healings(after, 'corrupt', 'reset_to_zero')).toBe(
      healings(before, 'corrupt', 'reset_to_zero') + 1,
    );
  });
});

describe('refusals', () => {
  it('counts a lock held past the timeout as one lock timeout and one refusal per change', async () => {
    const counters = countersIn(scratch.dir, 50);
    await counters.add(undefined, 1n);
    // Another holder of the counter's lock: the kernel lock conflicts between descriptors, even in one process.
    const release = await new DirectoryLock(path.join(scratch.dir, LOCK_FILE)).acquire(1000);
    const before = await scrape();
    try {
      await expect(counters.add(undefined, 1n)).rejects.toMatchObject({
        kind: 'storageUnavailable',
      });
    } finally {
      await release();
    }
    const after = await scrape();
    expect(refusals(after, 'lock_timeout') - refusals(before, 'lock_timeout')).toBe(1);
    expect(
      after.value('rusty_counter_lock_timeouts_total') -
        before.value('rusty_counter_lock_timeouts_total'),
    ).toBe(1);
  });

  it('counts one ENOSPC refusal per change refused on a full disk', async () => {
    const tmpfs = mountTmpfs(64);
    try {
      const counters = countersIn(tmpfs.dir);
      await counters.add(undefined, 1n);
      const free = tmpfs.fill();
      const before = await scrape();
      for (let i = 0; i < 3; i++) {
        await expect(counters.add(undefined, 1n)).rejects.toMatchObject({
          kind: 'storageUnavailable',
        });
      }
      // Five at once: refused together in the commits they share, still five refusals.
      const batch = await Promise.allSettled(
        Array.from({ length: 5 }, () => counters.add(undefined, 1n)),
      );
      expect(batch.map((result) => result.status)).toEqual(Array(5).fill('rejected'));
      const after = await scrape();
      expect(refusals(after, 'ENOSPC') - refusals(before, 'ENOSPC')).toBe(8);
      expect(totalOf(after, 'rusty_counter_storage_refusals_total')).toBe(
        totalOf(before, 'rusty_counter_storage_refusals_total') + 8,
      );
      free();
      await expect(counters.add(undefined, 1n)).resolves.toBe(2n);
    } finally {
      tmpfs.unmount();
    }
  });

  it('counts a change refused on a read-only disk as EROFS', async () => {
    const tmpfs = mountTmpfs(64);
    try {
      const counters = countersIn(tmpfs.dir);
      await counters.add(undefined, 1n);
      tmpfs.remount('ro');
      const before = await scrape();
      await expect(counters.add(undefined, 1n)).rejects.toMatchObject({
        kind: 'storageUnavailable',
      });
      expect(refusals(await scrape(), 'EROFS') - refusals(before, 'EROFS')).toBe(1);
      tmpfs.remount('rw');
    } finally {
      tmpfs.unmount();
    }
  });

  it('does not count the cap on named counters as a storage refusal', async () => {
    const counters = new Counters(
      new FilesEngine({ dataDir: scratch.dir, maxNamed: 1, warn: quiet }),
      { warn: quiet },
    );
    await counters.add('one', 1n);
    const before = await scrape();
    await expect(counters.add('two', 1n)).rejects.toMatchObject({ kind: 'tooManyCounters' });
    expect(totalOf(await scrape(), 'rusty_counter_storage_refusals_total')).toBe(
      totalOf(before, 'rusty_counter_storage_refusals_total'),
    );
  });
});
