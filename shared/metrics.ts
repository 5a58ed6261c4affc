import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { instanceDirectory, mergeSnapshots, ProcessSnapshots } from './metrics-snapshots';

/**
 * What this process has done, for `GET /metrics` in Prometheus' text format (prom-client).
 * The store, the backup timer and the request hooks record here; nothing is labelled by a
 * counter's name, so the number of series stays fixed however many counters exist. Each
 * metric says how the figures of several processes of one host merge (`aggregator`):
 * counters and histograms sum, as do gauges unless said otherwise.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/**
 * Facts of the store itself, the same whichever process reads them: read once per answer, by
 * the process that answers, never summed over processes.
 */
const storeRegistry = new Registry();

const PREFIX = 'rusty_counter_';
// From 100 µs (a commit on tmpfs) to 10 s (past the default lock timeout of 5 s).
const SECONDS_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

let enabled = true;

/** COUNTER_METRICS=false: nothing is recorded (the benchmark's baseline). */
export function turnMetricsOff(): void {
  enabled = false;
}

// ---- requests (recorded by the invocation hooks of functions/metrics.ts) ----

const requests = new Counter({
  name: `${PREFIX}http_requests_total`,
  help: 'HTTP requests answered, by function, method and status.',
  labelNames: ['function', 'method', 'status'],
  registers: [registry],
});

const requestSeconds = new Histogram({
  name: `${PREFIX}http_request_duration_seconds`,
  help: 'Time from the invocation to the response (to its first byte for /watch streams), by function.',
  labelNames: ['function'],
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

// The series of each label set, bound once (the label sets are few): a lookup by labels
// would hash them again at every request.
const requestSeries = new Map<string, { count: () => void; time: (seconds: number) => void }>();

/** One answered request; `seconds` from the invocation's start to its response. */
export function recordRequest(fn: string, method: string, status: number, seconds: number): void {
  if (!enabled) return;
  const key = `${fn} ${method} ${status}`;
  let series = requestSeries.get(key);
  if (series === undefined) {
    const counted = requests.labels(fn, method, String(status));
    const timed = requestSeconds.labels(fn);
    series = { count: () => counted.inc(), time: (value) => timed.observe(value) };
    requestSeries.set(key, series);
  }
  series.count();
  series.time(seconds);
}

// ---- changes and commits (Counters, above every engine) ----

export type ChangeKind = 'increment' | 'decrement' | 'set' | 'delete';

const changes = new Counter({
  name: `${PREFIX}changes_total`,
  help: 'Changes made durable, by kind (refused changes are not counted).',
  labelNames: ['kind'],
  registers: [registry],
});
// Children bound once: a label lookup per change would cost a hash of the labels each time.
const changeChildren = {
  increment: changes.labels('increment'),
  decrement: changes.labels('decrement'),
  set: changes.labels('set'),
  delete: changes.labels('delete'),
};
for (const child of Object.values(changeChildren)) child.inc(0);

const batchSize = new Histogram({
  name: `${PREFIX}commit_batch_size`,
  help: 'Changes per commit: how many changes group commit put into one write.',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
  registers: [registry],
});

const commitSeconds = new Histogram({
  name: `${PREFIX}commit_duration_seconds`,
  help: 'Time of one commit of a batch of changes by the storage engine, from start to durable.',
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

/** A commit of `size` changes took `seconds`; `made` of them were applied, by kind. */
export function recordCommit(size: number, seconds: number, made: readonly ChangeKind[]): void {
  if (!enabled) return;
  batchSize.observe(size);
  commitSeconds.observe(seconds);
  for (const kind of made) changeChildren[kind].inc();
}

// ---- inside an engine's commit (the file engine; the PostgreSQL engine calls the same) ----

/**
 * Where a commit's time goes. Files: waiting for the counter's lock (and for this process's
 * earlier commits of it), writing the temp file and renaming it, fsync of the file and its
 * directory. A database: `database` for the transaction, `lock_wait` for a connection.
 */
export type CommitPhase = 'lock_wait' | 'write' | 'fsync' | 'database';

const phaseSeconds = new Histogram({
  name: `${PREFIX}commit_phase_duration_seconds`,
  help: 'Time one commit spent in each phase: lock_wait, write, fsync (files) or database.',
  labelNames: ['phase'],
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

const phaseChildren = {
  lock_wait: phaseSeconds.labels('lock_wait'),
  write: phaseSeconds.labels('write'),
  fsync: phaseSeconds.labels('fsync'),
  database: phaseSeconds.labels('database'),
};

/** Splits one commit's time into phases; recorded once, at `done()`. */
export interface CommitTimer {
  /** The time since the previous mark (or the timer's start) was spent in `phase`. */
  mark(phase: CommitPhase): void;
  /** Records each phase marked, once; later calls do nothing. */
  done(): void;
}

const idleTimer: CommitTimer = { mark: () => undefined, done: () => undefined };

export function commitTimer(): CommitTimer {
  if (!enabled) return idleTimer;
  let last = performance.now();
  let spent: Partial<Record<CommitPhase, number>> | undefined = {};
  return {
    mark(phase) {
      const now = performance.now();
      if (spent !== undefined) spent[phase] = (spent[phase] ?? 0) + (now - last);
      last = now;
    },
    done() {
      for (const [phase, ms] of Object.entries(spent ?? {}) as Array<[CommitPhase, number]>) {
        phaseChildren[phase].observe(ms / 1000);
      }
      spent = undefined;
    },
  };
}

/**
 * Why storage refused a change (answered 503). `other` holds the rarer errnos (EACCES,
 * ENOENT, ...): the label's values must stay few.
 */
export type RefusalCause = 'ENOSPC' | 'EROFS' | 'EIO' | 'lock_timeout' | 'database_away' | 'other';
const REFUSAL_CAUSES: RefusalCause[] = [
  'ENOSPC',
  'EROFS',
  'EIO',
  'lock_timeout',
  'database_away',
  'other',
];

const refusals = new Counter({
  name: `${PREFIX}storage_refusals_total`,
  help: 'Changes storage refused (answered 503, nothing changed), by cause.',
  labelNames: ['cause'],
  registers: [registry],
});
// Every series exists from the start, at 0: an alert on rate() or increase() then sees the
// first refusal, which it would miss on a series that appears with it.
for (const cause of REFUSAL_CAUSES) refusals.labels(cause).inc(0);

/** `changes` changes were refused at once (a whole batch fails together). */
export function recordRefusal(cause: RefusalCause, changes = 1): void {
  if (enabled) refusals.labels(cause).inc(changes);
}

const lockTimeouts = new Counter({
  name: `${PREFIX}lock_timeouts_total`,
  help: 'Times a counter lock stayed taken past COUNTER_LOCK_TIMEOUT_MS.',
  registers: [registry],
});

export function recordLockTimeout(): void {
  if (enabled) lockTimeouts.inc();
}

/** What self-healing found wrong, and what it did about it. */
export type HealingCause = 'missing' | 'corrupt';
export type HealingResult = 'restored_from_backup' | 'reset_to_zero' | 'new_backup';

const healings = new Counter({
  name: `${PREFIX}healings_total`,
  help: 'Files healed: cause is what was wrong (missing, corrupt), result what was done.',
  labelNames: ['cause', 'result'],
  registers: [registry],
});
for (const [cause, result] of [
  ['missing', 'restored_from_backup'],
  ['missing', 'reset_to_zero'],
  ['corrupt', 'restored_from_backup'],
  ['corrupt', 'reset_to_zero'],
  ['corrupt', 'new_backup'],
] as const) {
  healings.labels(cause, result).inc(0);
}

export function recordHealing(cause: HealingCause, result: HealingResult): void {
  if (enabled) healings.labels(cause, result).inc();
}

// ---- backups (functions/backup.ts) ----

const backupRuns = new Counter({
  name: `${PREFIX}backup_runs_total`,
  help: 'Backup timer runs, successful or not.',
  registers: [registry],
});

const backupFailures = new Counter({
  name: `${PREFIX}backup_failures_total`,
  help: 'Backup runs that failed, or left some named counters without a backup.',
  registers: [registry],
});

const backupSeconds = new Histogram({
  name: `${PREFIX}backup_duration_seconds`,
  help: 'Time of one backup run.',
  buckets: [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [registry],
});

const backupLastSuccess = new Gauge({
  name: `${PREFIX}backup_last_success_timestamp_seconds`,
  help: 'When the last backup run that backed up everything ended (Unix time).',
  // The latest of any process: one of them runs the timer, the others hold 0.
  aggregator: 'max',
  registers: [registry],
});

export function recordBackup(ok: boolean, seconds: number): void {
  if (!enabled) return;
  backupRuns.inc();
  backupSeconds.observe(seconds);
  if (ok) backupLastSuccess.setToCurrentTime();
  else backupFailures.inc();
}

// ---- read at scrape time ----

/**
 * Gauges read when scraped: watchers open in this process, and named counters in storage
 * (the same for every process and replica: read by the answering process alone, and across
 * replicas aggregated with max, not sum). A failed count shows NaN rather than failing the
 * whole scrape.
 */
export function collectAtScrape(sources: {
  watchers: () => number;
  namedCounters: () => Promise<number>;
}): void {
  new Gauge({
    name: `${PREFIX}watchers`,
    help: 'GET /watch streams the app processes of this host serve now.',
    aggregator: 'sum',
    registers: [registry],
    collect() {
      this.set(sources.watchers());
    },
  });
  new Gauge({
    name: `${PREFIX}named_counters`,
    help: 'Named counters that exist in storage (the same on every replica).',
    registers: [storeRegistry],
    async collect() {
      this.set(await sources.namedCounters().catch(() => Number.NaN));
    },
  });
}

// ---- the app processes of one host (FUNCTIONS_WORKER_PROCESS_COUNT) ----

new Gauge({
  name: `${PREFIX}worker_processes`,
  help: 'App processes of this host whose figures this answer sums (FUNCTIONS_WORKER_PROCESS_COUNT of them when all run).',
  aggregator: 'sum',
  registers: [registry],
}).set(1);

let siblings: ProcessSnapshots | undefined;

/**
 * When the host runs several app processes: this one writes its figures where the others read
 * them, and answers with the sum of them all. Without it, it answers for itself alone.
 */
export function shareWithSiblingProcesses(warn: (message: string) => void): void {
  if (!enabled || siblings !== undefined) return;
  const snapshots = new ProcessSnapshots({ registry, directory: instanceDirectory(), warn });
  if (snapshots.start()) siblings = snapshots;
}

/** At the process's end: its last figures, which its siblings go on counting. */
export async function writeLastSnapshot(): Promise<void> {
  await siblings?.snapshot();
}

/** The answer to `GET /metrics`: every app process of this host, and the store's facts. */
export async function exposition(): Promise<string> {
  const processes = siblings === undefined ? registry : mergeSnapshots(await siblings.gather());
  return Registry.merge([processes, storeRegistry]).metrics();
}
