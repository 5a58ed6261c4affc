import path from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Seconds of measured load per HTTP phase (after its warm-up). */
  durationSeconds: number;
  /** Seconds of unmeasured load before each HTTP phase: JIT warm-up and a rate estimate. */
  warmupSeconds: number;
  /** Seconds per in-process measurement. */
  inProcessSeconds: number;
  /** The whole sequence is repeated; the table shows medians over rounds. */
  rounds: number;
  /** Ascending; the targets are judged at the last (highest) level. */
  connections: number[];
  outDir: string;
  smoke: boolean;
  /** Directory for `--cpu-prof` profiles of the hosts and the in-process child, if wanted. */
  cpuProfDir?: string;
  /** Extra node flags for the hosts only, e.g. V8 heap settings to compare. */
  hostNodeFlags: string[];
  /** FUNCTIONS_WORKER_PROCESS_COUNT of the three hosts that measure what metrics cost. */
  metricsWorkers: number;
}

const USAGE = `usage: node dist/bench/run.js [options]
  --duration=S       measured seconds per HTTP phase (env BENCH_DURATION, default 5)
  --rounds=N         repeat everything N times and report medians (env BENCH_ROUNDS, default 3)
  --connections=L    comma-separated connection counts (default 1,16,64)
  --out=DIR          where the JSON goes (env BENCH_OUT, default bench/results)
  --cpu-prof[=DIR]   write V8 CPU profiles of the hosts and the in-process run (default DIR: OUT/profiles)
  --host-flags=F     extra node flags for the hosts only, e.g. "--max-semi-space-size=4"
  --metrics-workers=N  FUNCTIONS_WORKER_PROCESS_COUNT of the metrics on/off hosts (default 1)
  --smoke            about one second per phase, few connections, one round (for the test suite)`;

export class UsageError extends Error {}

export function parseOptions(
  argv: string[],
  env: Record<string, string | undefined>,
  appRoot: string,
): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      // A bare `--cpu-prof` means "the default directory"; parseArgs wants a value for it.
      args: argv.map((arg) => (arg === '--cpu-prof' ? '--cpu-prof=' : arg)),
      options: {
        duration: { type: 'string' },
        rounds: { type: 'string' },
        connections: { type: 'string' },
        out: { type: 'string' },
        'cpu-prof': { type: 'string' },
        'host-flags': { type: 'string' },
        'metrics-workers': { type: 'string' },
        smoke: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (parsed.help) throw new UsageError(USAGE);
  const smoke = parsed.smoke ?? false;

  const durationSeconds = positiveNumber(
    'duration',
    parsed.duration ?? env.BENCH_DURATION ?? (smoke ? '0.6' : '5'),
  );
  const outDir = path.resolve(
    parsed.out ?? env.BENCH_OUT ?? path.join(appRoot, 'bench', 'results'),
  );
  const prof = parsed['cpu-prof'];
  const profileDir = prof === undefined ? undefined : prof || path.join(outDir, 'profiles');
  return {
    durationSeconds,
    warmupSeconds: smoke ? 0.2 : Math.min(1, durationSeconds / 2),
    inProcessSeconds: smoke ? 0.2 : Math.max(0.5, durationSeconds / 2),
    rounds: positiveInt('rounds', parsed.rounds ?? env.BENCH_ROUNDS ?? (smoke ? '1' : '3')),
    connections: connectionList(parsed.connections ?? (smoke ? '1,4' : '1,16,64')),
    outDir,
    smoke,
    cpuProfDir: profileDir === undefined ? undefined : path.resolve(profileDir),
    hostNodeFlags: (parsed['host-flags'] ?? '').split(/\s+/).filter(Boolean),
    metricsWorkers: positiveInt('metrics-workers', parsed['metrics-workers'] ?? '1'),
  };
}

function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a positive number of seconds; got "${text}"`);
  }
  return value;
}

function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`--${name} must be a whole number ≥ 1; got "${text}"`);
  }
  return value;
}

function connectionList(text: string): number[] {
  const list = [...new Set(text.split(',').map((part) => positiveInt('connections', part)))];
  list.sort((a, b) => a - b);
  // Two hosts share the top level half and half, so it must split evenly.
  const top = list[list.length - 1];
  if (top < 2 || top % 2 !== 0) {
    throw new UsageError(`the highest --connections must be even (two hosts share it); got ${top}`);
  }
  return list;
}
