import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import {
  mergeSnapshots,
  ProcessSnapshots,
  retiredPart,
  type Snapshot,
} from '../../shared/metrics-snapshots';
import {
  answeredIncrementsOf as answered,
  incrementsOf as increments,
  Scrape,
} from '../../bench/scrape';
import { tempDir } from '../support/temp-dir';

/**
 * How the figures of the app processes of one host merge into one answer, and how each
 * process shares its own through a directory. Each "process" here is a fresh copy of
 * shared/metrics.ts, with a registry of its own and the real metric declarations.
 */

type MetricsModule = typeof import('../../shared/metrics');

async function aProcess(): Promise<MetricsModule> {
  let loaded: MetricsModule | undefined;
  await jest.isolateModulesAsync(async () => {
    loaded = await import('../../shared/metrics');
  });
  return loaded!;
}

/** A process that made `increments` changes, serves `watchers` streams, and maybe backed up. */
async function processThatDid(
  increments: number,
  watchers: number,
  backedUp = false,
): Promise<MetricsModule> {
  const metrics = await aProcess();
  metrics.collectAtScrape({ watchers: () => watchers, namedCounters: async () => 7 });
  for (let i = 0; i < increments; i++) {
    metrics.recordRequest('increment', 'POST', 200, 0.002);
    metrics.recordCommit(1, 0.001, ['increment']);
  }
  if (backedUp) metrics.recordBackup(true, 0.05);
  return metrics;
}

/** A snapshot as a sibling's file holds it. */
async function snapshotOf(metrics: MetricsModule): Promise<Snapshot> {
  return JSON.parse(JSON.stringify(await metrics.registry.getMetricsAsJSON())) as Snapshot;
}

const scrapeOf = async (registry: Registry) => new Scrape(await registry.metrics());
const familyNames = (s: Scrape) => s.families.map((family) => family.name);

describe('merging the figures of the app processes of one host', () => {
  let first: Snapshot;
  let second: Snapshot;
  let backupTimes: number[];
  beforeAll(async () => {
    // Both ran a backup (a replacement of the process that runs the timer, say).
    const processes = [await processThatDid(3, 2, true), await processThatDid(5, 1, true)];
    [first, second] = await Promise.all(processes.map(snapshotOf));
    backupTimes = await Promise.all(
      processes.map(async ({ registry }) =>
        (await scrapeOf(registry)).value('rusty_counter_backup_last_success_timestamp_seconds'),
      ),
    );
  });

  it('sums counters and histograms, series by series', async () => {
    const merged = await scrapeOf(mergeSnapshots([first, second]));
    expect(increments(merged)).toBe(8);
    expect(answered(merged)).toBe(8);
    expect(merged.count('rusty_counter_commit_batch_size')).toBe(8);
    expect(merged.sum('rusty_counter_commit_batch_size')).toBe(8);
    expect(merged.value('rusty_counter_storage_refusals_total', { cause: 'ENOSPC' })).toBe(0);
  });

  it('sums watchers and processes, and takes the latest backup rather than a sum of times', async () => {
    const merged = await scrapeOf(mergeSnapshots([first, second]));
    expect(merged.value('rusty_counter_watchers')).toBe(3);
    expect(merged.value('rusty_counter_worker_processes')).toBe(2);
    expect(Math.min(...backupTimes)).toBeGreaterThan(0);
    expect(merged.value('rusty_counter_backup_last_success_timestamp_seconds')).toBe(
      Math.max(...backupTimes),
    );
  });

  it("keeps the store's named counters out of the processes' figures, so nothing multiplies them", async () => {
    const merged = await scrapeOf(mergeSnapshots([first, second]));
    expect(familyNames(merged)).not.toContain('rusty_counter_named_counters');
  });

  it("merges Node's process metrics as prom-client declares them", async () => {
    const merged = await scrapeOf(mergeSnapshots([first, second]));
    // One Node version, not two summed; no single start time for two processes.
    expect(merged.value('nodejs_version_info')).toBe(1);
    expect(familyNames(merged)).not.toContain('process_start_time_seconds');
    expect(familyNames(merged)).toContain('process_cpu_seconds_total');
  });

  it("keeps an exited process's counters and histograms in the sum, and drops its gauges", async () => {
    const merged = await scrapeOf(mergeSnapshots([first, retiredPart(second)]));
    expect(increments(merged)).toBe(8);
    expect(merged.count('rusty_counter_commit_batch_size')).toBe(8);
    expect(merged.value('rusty_counter_watchers')).toBe(2);
    expect(merged.value('rusty_counter_worker_processes')).toBe(1);
  });
});

describe('sharing figures through the directory of the host instance', () => {
  let scratch: ReturnType<typeof tempDir>;
  let directory: string;
  let snapshots: ProcessSnapshots | undefined;
  const warnings: string[] = [];
  const started: ReturnType<typeof spawn>[] = [];

  beforeEach(() => {
    scratch = tempDir('rusty-counter-snapshots-');
    directory = path.join(scratch.dir, 'rusty-counter-metrics-1');
    warnings.length = 0;
  });
  afterEach(() => {
    snapshots?.close();
    snapshots = undefined;
    for (const child of started.splice(0)) child.kill('SIGKILL');
    scratch.remove();
  });

  async function startIn(dir: string, metrics: MetricsModule): Promise<ProcessSnapshots> {
    snapshots = new ProcessSnapshots({
      registry: metrics.registry,
      directory: dir,
      warn: (message) => warnings.push(message),
    });
    expect(snapshots.start()).toBe(true);
    await snapshots.snapshot();
    return snapshots;
  }

  /** A process that stays running until the test ends. */
  function runningPid(): number {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    started.push(child);
    return child.pid!;
  }

  /** The pid of a process that has exited. */
  function exitedPid(): number {
    return spawnSync(process.execPath, ['-e', '']).pid!;
  }

  const writeSibling = async (name: string, metrics: MetricsModule) =>
    writeFileSync(path.join(directory, name), JSON.stringify(await snapshotOf(metrics)));

  const gathered = async (shared: ProcessSnapshots) =>
    scrapeOf(mergeSnapshots(await shared.gather()));

  it("writes this process's figures as <pid>-<start>.json, whole, for its siblings to read", async () => {
    await startIn(directory, await processThatDid(4, 0));
    const names = readdirSync(directory);
    expect(names).toEqual([expect.stringMatching(new RegExp(`^${process.pid}-\\d+\\.json$`))]);
    const written = JSON.parse(readFileSync(path.join(directory, names[0]), 'utf8')) as Snapshot;
    const registry = mergeSnapshots([written]);
    expect(increments(await scrapeOf(registry))).toBe(4);
  });

  it('answers with its own figures and those of a sibling that runs', async () => {
    const own = await startIn(directory, await processThatDid(4, 1));
    await writeSibling(`${runningPid()}-1000.json`, await processThatDid(6, 2));
    const merged = await gathered(own);
    expect(increments(merged)).toBe(10);
    expect(merged.value('rusty_counter_watchers')).toBe(3);
    expect(merged.value('rusty_counter_worker_processes')).toBe(2);
  });

  it("goes on counting an exited sibling's changes, not its watchers, and retires its file", async () => {
    const own = await startIn(directory, await processThatDid(4, 1));
    const gone = exitedPid();
    await writeSibling(`${gone}-1000.json`, await processThatDid(6, 2));
    for (let i = 0; i < 2; i++) {
      const merged = await gathered(own);
      expect(increments(merged)).toBe(10);
      expect(merged.value('rusty_counter_watchers')).toBe(1);
      expect(merged.value('rusty_counter_worker_processes')).toBe(1);
    }
    expect(readdirSync(directory)).toContain(`${gone}-1000.retired.json`);
    expect(readdirSync(directory)).not.toContain(`${gone}-1000.json`);
  });

  it('takes the older of two files of one pid for a process that exited (a reused pid)', async () => {
    const own = await startIn(directory, await processThatDid(4, 1));
    const pid = runningPid();
    await writeSibling(`${pid}-1000.json`, await processThatDid(6, 2));
    await writeSibling(`${pid}-2000.json`, await processThatDid(1, 5));
    const merged = await gathered(own);
    expect(increments(merged)).toBe(11);
    expect(merged.value('rusty_counter_watchers')).toBe(6);
    expect(readdirSync(directory)).toContain(`${pid}-1000.retired.json`);
  });

  it('answers all the same when a file in the directory is not a snapshot', async () => {
    const own = await startIn(directory, await processThatDid(4, 1));
    writeFileSync(path.join(directory, `${runningPid()}-1000.json`), '{"not": "a snapshot"}');
    expect(increments(await gathered(own))).toBe(4);
  });

  it('on close, leaves its last figures retired for a sibling that still runs', async () => {
    const own = await startIn(directory, await processThatDid(4, 1));
    const sibling = `${runningPid()}-1000.json`;
    await writeSibling(sibling, await processThatDid(6, 2));
    own.close();
    const names = readdirSync(directory);
    expect(names).toHaveLength(2);
    expect(names).toEqual(
      expect.arrayContaining([
        sibling,
        expect.stringMatching(new RegExp(`^${process.pid}-\\d+\\.retired\\.json$`)),
      ]),
    );
  });

  it('on close, removes the directory when no other process of the instance runs', async () => {
    const own = await startIn(directory, await processThatDid(4, 1));
    await writeSibling(`${exitedPid()}-1000.json`, await processThatDid(6, 2));
    await writeSibling(`${exitedPid()}-2000.retired.json`, await processThatDid(1, 0));
    own.close();
    expect(existsSync(directory)).toBe(false);
  });

  it('removes the directories of host instances whose parent process is gone', async () => {
    const abandoned = path.join(scratch.dir, `rusty-counter-metrics-${exitedPid()}`);
    const running = path.join(scratch.dir, `rusty-counter-metrics-${runningPid()}`);
    for (const dir of [abandoned, running]) mkdirSync(dir);
    await startIn(directory, await processThatDid(0, 0));
    const deadline = Date.now() + 20_000;
    while (existsSync(abandoned) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(running)).toBe(true);
  });

  it('refuses a directory another user owns, whose files could fake the figures, and says so', async () => {
    mkdirSync(directory, { mode: 0o777 });
    chownSync(directory, 4321, 4321);
    const own = new ProcessSnapshots({
      registry: (await processThatDid(0, 0)).registry,
      directory,
      warn: (message) => warnings.push(message),
    });
    expect(own.start()).toBe(false);
    expect(warnings).toEqual([expect.stringContaining('is not a directory of this user')]);
  });
});
