import {
  promises as fs,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  type Stats,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AggregatorRegistry, type PrometheusContentType, type Registry } from 'prom-client';
import { errnoOf } from './errno';
import { isJsonObject } from './json-object';

/**
 * With FUNCTIONS_WORKER_PROCESS_COUNT > 1 a host instance runs several app processes, and a
 * scrape reaches whichever one accepts it. Azure's host gives them no channel to each other,
 * only a parent process and a machine, so each writes its figures (a snapshot of its
 * registry) to a directory named after that parent, and the one answering a scrape sums them.
 */

/** How often each process writes its figures: how far behind a sibling's part of an answer may be. */
export const SNAPSHOT_INTERVAL_MS = 5000;

const DIRECTORY_PREFIX = 'rusty-counter-metrics-';
const INSTANCE_DIRECTORY = new RegExp(`^${DIRECTORY_PREFIX}(\\d+)$`);
// `<pid>-<start>.json`; `.retired.json` once the process has exited. The start in the name
// keeps a reused pid from taking over the file of the process that had it before.
const SNAPSHOT_FILE = /^(\d+)-(\d+)(\.retired)?\.json$/;
const AGGREGATORS = new Set(['sum', 'first', 'min', 'max', 'average', 'omit']);

/** One series of a metric in a snapshot. */
interface SnapshotValue {
  value: number;
  labels: Record<string, string | number>;
  /** A histogram's `_bucket`, `_sum` or `_count`. */
  metricName?: string;
}

/**
 * One metric as prom-client's `getMetricsAsJSON()` gives it. Its type declarations call
 * `type` a numeric enum; the value is a name: 'counter', 'gauge', 'histogram'.
 */
export interface SnapshotMetric {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: SnapshotValue[];
}

/** One process's figures at one moment. */
export type Snapshot = SnapshotMetric[];

/**
 * One answer from the figures of several processes, each metric merged by the aggregator it
 * was declared with (prom-client's own, as its cluster mode does): counters and histograms
 * sum. The answering process comes first, so a 'first' metric shows its value.
 */
export function mergeSnapshots(snapshots: Snapshot[]): Registry {
  return AggregatorRegistry.aggregate<PrometheusContentType>(snapshots);
}

/**
 * What stays of an exited process in the sum: its counters and histograms, what it did, so a
 * sum never drops when one process ends (Prometheus would read the drop as a reset, and
 * `increase()` would count everything the others did as new). Its gauges, what it was, go.
 */
export function retiredPart(snapshot: Snapshot): Snapshot {
  return snapshot.filter((metric) => metric.type === 'counter' || metric.type === 'histogram');
}

/**
 * The directory shared by the app processes of this host instance, which are the children of
 * one process: the host's (Azure's, or the offline host's primary).
 */
export function instanceDirectory(): string {
  return path.join(os.tmpdir(), `${DIRECTORY_PREFIX}${process.ppid}`);
}

export interface ProcessSnapshotsOptions {
  /** This process's figures. */
  registry: Registry;
  /** Where the app processes of one host instance, and only they, write (instanceDirectory()). */
  directory: string;
  warn: (message: string) => void;
  intervalMs?: number;
}

interface SnapshotFile {
  name: string;
  pid: number;
  started: number;
  retired: boolean;
}

/**
 * This process's figures written every interval to `<directory>/<pid>-<start>.json` (a temp
 * file renamed over it, so a reader sees a whole snapshot), and the figures of every app
 * process of the host instance read back at a scrape.
 */
export class ProcessSnapshots {
  private readonly ownName = `${process.pid}-${Math.round(performance.timeOrigin)}.json`;
  private timer: NodeJS.Timeout | undefined;
  // One snapshot at a time, in order: an older one written after a newer would take figures
  // back that an answer already showed.
  private queue: Promise<unknown> = Promise.resolve();
  private writeFailed = false;
  private closed = false;
  private readonly closeOnExit = () => this.close();

  constructor(private readonly options: ProcessSnapshotsOptions) {}

  private get directory(): string {
    return this.options.directory;
  }

  /**
   * Makes the directory, writes a first snapshot and then one every interval, and removes
   * directories that hosts no longer running left behind. False, with a warning, when the
   * directory is not this user's own: another user's files could then fake the figures.
   */
  start(): boolean {
    try {
      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
      if (!ownedByThisUser(lstatSync(this.directory))) {
        this.options.warn(
          `metrics: ${this.directory} is not a directory of this user; /metrics shows this process alone`,
        );
        return false;
      }
    } catch (err) {
      this.options.warn(
        `metrics: cannot use ${this.directory} (${(err as Error).message}); /metrics shows this process alone`,
      );
      return false;
    }
    const writeNow = () => void this.inTurn(() => this.writeOwn()).catch(() => undefined);
    writeNow();
    this.timer = setInterval(writeNow, this.options.intervalMs ?? SNAPSHOT_INTERVAL_MS);
    this.timer.unref();
    process.once('exit', this.closeOnExit);
    void removeAbandoned(this.directory);
    return true;
  }

  /**
   * Every process's figures, this one's first: its own taken now (and written, so that no
   * later answer from another process shows less of it), the others' from their files.
   */
  async gather(): Promise<Snapshot[]> {
    const own = await this.snapshot();
    const files = (await fs.readdir(this.directory).catch(() => [])).flatMap((name) => {
      const file = parseName(name);
      return file === undefined || name === this.ownName ? [] : [file];
    });
    // Of the files of one pid, only the newest process's can still be running.
    const newest = new Map<number, number>([[process.pid, Number.POSITIVE_INFINITY]]);
    for (const { pid, started } of files) newest.set(pid, Math.max(started, newest.get(pid) ?? 0));
    const retired = new Set(files.filter((file) => file.retired).map((file) => file.name));
    const others = await Promise.all(
      files
        // A process being retired while we listed: its retired file counts, not both.
        .filter((file) => file.retired || !retired.has(retiredName(file.name)))
        .map((file) =>
          file.retired
            ? this.readRetired(file.name)
            : isRunning(file.pid) && newest.get(file.pid) === file.started
              ? this.readRunning(file.name)
              : this.retire(file.name),
        ),
    );
    return [own, ...others.filter((snapshot) => snapshot !== undefined)];
  }

  /** This process's figures now, written for its siblings. */
  async snapshot(): Promise<Snapshot> {
    // What was written, not the registry's live objects, which later changes would move on.
    return toSnapshot(JSON.parse(await this.inTurn(() => this.writeOwn())));
  }

  private inTurn<T>(task: () => Promise<T>): Promise<T> {
    const done = this.queue.then(task);
    this.queue = done.catch(() => undefined);
    return done;
  }

  /**
   * Stops writing, and retires this process's last snapshot, which its siblings go on
   * counting. The last process of the instance removes the directory instead. Processes
   * exiting together each retire before they look, so at least the last to look finds no
   * other running and removes it.
   */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    process.off('exit', this.closeOnExit);
    try {
      renameSync(
        path.join(this.directory, this.ownName),
        path.join(this.directory, retiredName(this.ownName)),
      );
    } catch {
      // Never written, or the directory is gone already.
    }
    try {
      const othersRunning = readdirSync(this.directory).some((name) => {
        const file = parseName(name);
        return (
          file !== undefined && !file.retired && file.pid !== process.pid && isRunning(file.pid)
        );
      });
      if (!othersRunning) rmSync(this.directory, { recursive: true, force: true });
    } catch {
      // Removed already, by the last of the others.
    }
  }

  /** Takes this process's figures and writes them; the text written. */
  private async writeOwn(): Promise<string> {
    const text = JSON.stringify(await this.options.registry.getMetricsAsJSON());
    if (this.closed) return text;
    try {
      await this.writeFile(this.ownName, text, `${this.ownName}.tmp`);
      this.writeFailed = false;
    } catch (err) {
      // The answer still holds this process's figures; its siblings see its previous ones.
      if (!this.writeFailed) {
        this.options.warn(
          `metrics: cannot write this process's figures to ${this.directory}: ${(err as Error).message}`,
        );
      }
      this.writeFailed = true;
    }
    return text;
  }

  private async writeFile(name: string, text: string, tempName: string): Promise<void> {
    const temp = path.join(this.directory, tempName);
    try {
      await fs.writeFile(temp, text);
    } catch (err) {
      // Removed by a sibling that thought itself the last, or by a sweep of old directories.
      if (errnoOf(err) !== 'ENOENT') throw err;
      await fs.mkdir(this.directory, { recursive: true, mode: 0o700 });
      await fs.writeFile(temp, text);
    }
    await fs.rename(temp, path.join(this.directory, name));
  }

  private async read(name: string): Promise<Snapshot | undefined> {
    try {
      return toSnapshot(JSON.parse(await fs.readFile(path.join(this.directory, name), 'utf8')));
    } catch {
      // Gone (retired meanwhile, or the directory removed) or not a snapshot of ours.
      return undefined;
    }
  }

  private async readRetired(name: string): Promise<Snapshot | undefined> {
    const snapshot = await this.read(name);
    return snapshot === undefined ? undefined : retiredPart(snapshot);
  }

  private async readRunning(name: string): Promise<Snapshot | undefined> {
    return (await this.read(name)) ?? this.readRetired(retiredName(name));
  }

  /** Keeps the counters and histograms of an exited process; its live-named file goes. */
  private async retire(name: string): Promise<Snapshot | undefined> {
    const snapshot = await this.readRunning(name);
    if (snapshot === undefined) return undefined;
    const part = retiredPart(snapshot);
    const target = retiredName(name);
    try {
      // Retired before removed, so that a reader always finds one of the two.
      await this.writeFile(target, JSON.stringify(part), `${target}.${process.pid}.tmp`);
      await fs.rm(path.join(this.directory, name), { force: true });
    } catch {
      // Another scrape may finish it; this answer counts the part all the same.
    }
    return part;
  }
}

function parseName(name: string): SnapshotFile | undefined {
  const match = SNAPSHOT_FILE.exec(name);
  if (match === null) return undefined;
  return {
    name,
    pid: Number(match[1]),
    started: Number(match[2]),
    retired: match[3] !== undefined,
  };
}

const retiredName = (name: string) =>
  name.endsWith('.retired.json') ? name : name.replace(/\.json$/, '.retired.json');

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) === 'EPERM';
  }
}

function ownedByThisUser(stat: Stats): boolean {
  // Windows has no uids; its temp directory is the user's own.
  return stat.isDirectory() && (process.getuid === undefined || stat.uid === process.getuid());
}

/**
 * The directories of host instances whose parent process is gone without its app processes
 * closing (SIGKILL, a crash): none of theirs is left to remove them.
 */
async function removeAbandoned(own: string): Promise<void> {
  const tmp = path.dirname(own);
  const names = await fs.readdir(tmp).catch(() => []);
  for (const name of names) {
    const match = INSTANCE_DIRECTORY.exec(name);
    const directory = path.join(tmp, name);
    if (match === null || directory === own || isRunning(Number(match[1]))) continue;
    const stat = await fs.lstat(directory).catch(() => undefined);
    if (stat !== undefined && ownedByThisUser(stat)) {
      await fs.rm(directory, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** A snapshot read from JSON, checked: a file that is not one must not break the answer. */
function toSnapshot(json: unknown): Snapshot {
  if (!Array.isArray(json)) throw new Error('a snapshot is an array of metrics');
  return json.map((metric: unknown) => {
    if (
      !isJsonObject(metric) ||
      typeof metric.name !== 'string' ||
      typeof metric.help !== 'string' ||
      typeof metric.type !== 'string' ||
      typeof metric.aggregator !== 'string' ||
      !AGGREGATORS.has(metric.aggregator) ||
      !Array.isArray(metric.values)
    ) {
      throw new Error('not a metric of prom-client');
    }
    return {
      name: metric.name,
      help: metric.help,
      type: metric.type,
      aggregator: metric.aggregator,
      values: metric.values.map(toValue),
    };
  });
}

function toValue(value: unknown): SnapshotValue {
  if (!isJsonObject(value) || !isJsonObject(value.labels)) throw new Error('not a series');
  // JSON writes NaN (a gauge with nothing to show yet, such as an event-loop mean) as null.
  const number = value.value === null ? Number.NaN : value.value;
  if (typeof number !== 'number') throw new Error('a series without a number');
  const labels: Record<string, string | number> = {};
  for (const [key, label] of Object.entries(value.labels)) {
    if (typeof label !== 'string' && typeof label !== 'number') throw new Error('a bad label');
    labels[key] = label;
  }
  return typeof value.metricName === 'string'
    ? { value: number, labels, metricName: value.metricName }
    : { value: number, labels };
}
