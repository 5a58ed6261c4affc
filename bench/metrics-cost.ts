import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SNAPSHOT_INTERVAL_MS } from '../shared/metrics-snapshots';
import { DATA_FILE } from '../shared/store/file-counter';
import { load } from './http';
import { parseOptions, type BenchOptions } from './options';
import { answeredIncrementsOf as answered, incrementsOf as increments, Scrape } from './scrape';
import { killAll, startHost, type ChildServer } from './servers';
import { median } from './stats';
import { settledTotal } from './stored-value';

/** How often the "scraped" host is scraped during its phases: far more than any Prometheus. */
const SCRAPE_EVERY_MS = 1000;
// A commit in flight when a timed load ends still lands; this long a quiet spell means all have.
const SETTLE_MS = 250;

type Setting = 'metricsOff' | 'metricsOn' | 'metricsOnScraped';
const SETTINGS: Setting[] = ['metricsOff', 'metricsOn', 'metricsOnScraped'];

/** GET costs no fsync, so it shows the request hooks' share in full; POST adds the store's. */
const ROUTES = [
  { key: 'get', method: 'GET', route: '/get' },
  { key: 'post', method: 'POST', route: '/increment' },
] as const;
type RouteKey = (typeof ROUTES)[number]['key'];

export interface MetricsCost {
  /** Connections to each host. */
  connections: number;
  /** App processes of each host (FUNCTIONS_WORKER_PROCESS_COUNT). */
  workers: number;
  /** Requests per second of each host in each round, per route. */
  requestsPerSecond: Record<RouteKey, Record<Setting, number[]>>;
  /** Per route: the median over rounds of (host with metrics on) ÷ (host with metrics off). */
  ratioOn: Record<RouteKey, number>;
  ratioOnScraped: Record<RouteKey, number>;
  /** What /metrics said against what the bench itself counted. */
  agreement: {
    /** POST /increment answered 2xx in a run by count on the scraped host. */
    acknowledged: number;
    /** The growth of rusty_counter_changes_total{kind="increment"} over that run. */
    changesCounted: number;
    /** The growth of rusty_counter_http_requests_total{function="increment",status="200"}. */
    requestsCounted: number;
    /** rusty_counter_changes_total{kind="increment"} at the end, and the value in data.bin. */
    changesTotal: number;
    storedValue: string;
    ok: boolean;
  };
}

/**
 * The cost of metrics: three hosts started alike, with COUNTER_METRICS=false, with metrics on,
 * and with metrics on while /metrics is scraped every second, loaded at the same time with the
 * same connections. They share the machine's cores and whatever else runs on it, so the ratio
 * of their throughputs is what metrics cost, even on a machine too busy for absolute figures.
 * Each host counts from a fresh data directory, so the scraped one's /metrics can be checked
 * against the bench's own counts.
 */
export async function measureMetricsCost(
  options: BenchOptions,
  work: string,
): Promise<MetricsCost> {
  // The top level shared by the three hosts, as two hosts share it in the main table.
  const connections = Math.max(
    1,
    Math.round(options.connections[options.connections.length - 1] / SETTINGS.length),
  );
  const hosts = {} as Record<Setting, ChildServer>;
  const scrapedDir = path.join(work, 'metricsOnScraped');
  for (const setting of SETTINGS) {
    const dataDir = path.join(work, setting);
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(path.join(dataDir, DATA_FILE), '0');
    hosts[setting] = await startHost({
      appRoot: path.resolve(__dirname, '..', '..'),
      dataDir,
      groupCommit: true,
      nodeFlags: options.hostNodeFlags,
      workers: options.metricsWorkers,
      env: { COUNTER_METRICS: String(setting !== 'metricsOff') },
    });
  }
  const scraped = hosts.metricsOnScraped.url;
  try {
    const requestsPerSecond = {} as MetricsCost['requestsPerSecond'];
    const ratios = { metricsOn: {}, metricsOnScraped: {} } as Record<
      Exclude<Setting, 'metricsOff'>,
      Record<RouteKey, number[]>
    >;
    for (const { key, method, route } of ROUTES) {
      // Load generators started first get ahead (an A/A run with three identical hosts showed
      // up to 20 %), so each round starts them in another order.
      const loadAll = async (seconds: number, round = 0) => {
        const order = SETTINGS.map((_, i) => SETTINGS[(i + round) % SETTINGS.length]);
        const results = await Promise.all(
          order.map((setting) =>
            load([hosts[setting].url + route], method, connections, { seconds }),
          ),
        );
        return (setting: Setting) => results[order.indexOf(setting)].requestsPerSecond;
      };
      await loadAll(options.warmupSeconds * 2);
      requestsPerSecond[key] = { metricsOff: [], metricsOn: [], metricsOnScraped: [] };
      ratios.metricsOn[key] = [];
      ratios.metricsOnScraped[key] = [];
      for (let round = 0; round < options.rounds; round++) {
        const scraper = keepScraping(scraped);
        const rps = await loadAll(options.durationSeconds, round);
        await scraper.stop();
        for (const setting of SETTINGS) requestsPerSecond[key][setting].push(rps(setting));
        ratios.metricsOn[key].push(rps('metricsOn') / rps('metricsOff'));
        ratios.metricsOnScraped[key].push(rps('metricsOnScraped') / rps('metricsOff'));
      }
    }
    const medians = (of: Record<RouteKey, number[]>) =>
      Object.fromEntries(ROUTES.map(({ key }) => [key, median(of[key])])) as Record<
        RouteKey,
        number
      >;
    return {
      connections,
      workers: options.metricsWorkers,
      requestsPerSecond,
      ratioOn: medians(ratios.metricsOn),
      ratioOnScraped: medians(ratios.metricsOnScraped),
      agreement: await checkAgreement(scraped, scrapedDir, connections, options),
    };
  } finally {
    await Promise.all(SETTINGS.map((setting) => hosts[setting].stop()));
  }
}

/**
 * POST /increment by count (every request answered), with a scrape before and after, then the
 * whole count of changes against data.bin, once the commits cut off by timed loads landed.
 */
async function checkAgreement(
  url: string,
  dataDir: string,
  connections: number,
  options: BenchOptions,
): Promise<MetricsCost['agreement']> {
  const before = await scrapeCaughtUp(url, await settledTotal([dataDir], SETTLE_MS));
  const amount = Math.max(connections, Math.round(50 * options.durationSeconds));
  const result = await load([`${url}/increment`], 'POST', connections, { amount });
  const storedValue = await settledTotal([dataDir], SETTLE_MS);
  const after = await scrapeCaughtUp(url, storedValue);
  const changesTotal = increments(after);
  const changesCounted = increments(after) - increments(before);
  const requestsCounted = answered(after) - answered(before);
  return {
    acknowledged: result.ok,
    changesCounted,
    requestsCounted,
    changesTotal,
    storedValue: storedValue.toString(),
    ok:
      changesCounted === result.ok &&
      requestsCounted === result.ok &&
      BigInt(changesTotal) === storedValue,
  };
}

/** The lines `npm run bench` prints under its table. */
export function describeMetricsCost(cost: MetricsCost): string {
  const { agreement: a } = cost;
  const processes = cost.workers > 1 ? ` of ${cost.workers} app processes` : '';
  const lines = ROUTES.map(({ key, method, route }) => {
    const med = (setting: Setting) => median(cost.requestsPerSecond[key][setting]).toFixed(0);
    return (
      `Metrics cost, ${method} ${route}, three hosts${processes} loaded at once with ${cost.connections} ` +
      `connections each (medians): off ${med('metricsOff')} req/s, on ${med('metricsOn')} req/s ` +
      `(on ÷ off ${cost.ratioOn[key].toFixed(3)}×), on and scraped every ` +
      `${SCRAPE_EVERY_MS / 1000} s ${med('metricsOnScraped')} req/s ` +
      `(${cost.ratioOnScraped[key].toFixed(3)}×); target ≥ 0.95×.\n`
    );
  });
  return (
    lines.join('') +
    `/metrics agreed with the bench's counts: ${a.ok ? 'yes' : 'NO'} ` +
    `(acknowledged ${a.acknowledged}, changes counted ${a.changesCounted}, requests counted ` +
    `${a.requestsCounted}; changes_total ${a.changesTotal}, data.bin ${a.storedValue}).\n`
  );
}

/**
 * A scrape once every app process's figures include the changes in data.bin: with several,
 * the others' part of an answer is their last snapshot, up to SNAPSHOT_INTERVAL_MS old. After
 * a few intervals, the scrape as it is (the check then fails).
 */
async function scrapeCaughtUp(url: string, stored: bigint): Promise<Scrape> {
  const deadline = Date.now() + 4 * SNAPSHOT_INTERVAL_MS;
  for (;;) {
    const scraped = await scrape(url);
    if (BigInt(increments(scraped)) === stored || Date.now() > deadline) return scraped;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  }
}

async function scrape(url: string): Promise<Scrape> {
  const reply = await fetch(`${url}/metrics`);
  if (reply.status !== 200) throw new Error(`GET /metrics answered ${reply.status}`);
  return new Scrape(await reply.text());
}

/** Scrapes `url` every SCRAPE_EVERY_MS until stopped, as Prometheus would (but more often). */
function keepScraping(url: string): { stop(): Promise<void> } {
  let last: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    last = scrape(url);
  }, SCRAPE_EVERY_MS);
  return {
    async stop() {
      clearInterval(timer);
      await last;
    },
  };
}

/**
 * This part alone: `node dist/bench/metrics-cost.js [--duration=S] [--rounds=N] [--connections=L]
 * [--metrics-workers=N]`.
 */
async function main(): Promise<void> {
  const appRoot = path.resolve(__dirname, '..', '..');
  const options = parseOptions(process.argv.slice(2), process.env, appRoot);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'counter-bench-metrics-'));
  try {
    const cost = await measureMetricsCost(options, work);
    process.stdout.write(describeMetricsCost(cost));
    if (!cost.agreement.ok) process.exitCode = 1;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    killAll();
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
