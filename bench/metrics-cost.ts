import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DATA_FILE } from '../shared/store/file-counter';
import { load } from './http';
import type { BenchOptions } from './options';
import { Scrape } from './scrape';
import { startHost, type ChildServer } from './servers';
import { median } from './stats';
import { storedTotal } from './stored-value';

/** How often the "scraped" host is scraped during its phases: far more than any Prometheus. */
const SCRAPE_EVERY_MS = 1000;

type Setting = 'metricsOff' | 'metricsOn' | 'metricsOnScraped';
const SETTINGS: Setting[] = ['metricsOff', 'metricsOn', 'metricsOnScraped'];

/** GET costs no fsync, so it shows the request hooks' share in full; POST adds the store's. */
const ROUTES = [
  { key: 'get', method: 'GET', route: '/get' },
  { key: 'post', method: 'POST', route: '/increment' },
] as const;
type RouteKey = (typeof ROUTES)[number]['key'];

export interface MetricsCost {
  connections: number;
  /** Requests per second of each phase, per route and setting. */
  requestsPerSecond: Record<RouteKey, Record<Setting, number[]>>;
  /**
   * The host's CPU time (user + system) per request of each phase, in microseconds: what
   * metrics add to each request, much less swayed than throughput by other load on the machine.
   */
  cpuMicrosPerRequest: Record<RouteKey, Record<Setting, number[]>>;
  /** Per route: the median CPU per request with metrics off over that with metrics on. */
  cpuRatioOn: Record<RouteKey, number>;
  /** Per route: the median with metrics on (and scraped) over the median with metrics off. */
  ratioOn: Record<RouteKey, number>;
  ratioOnScraped: Record<RouteKey, number>;
  /** What /metrics said after the phases against what the bench itself counted. */
  agreement: {
    /** The changes the bench saw acknowledged in its measured phases (2xx answers). */
    acknowledged: number;
    /** The growth of rusty_counter_changes_total{kind="increment"} over those phases. */
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
 * The cost of metrics: GET /get, then POST /increment, on three hosts started alike, with
 * COUNTER_METRICS=false, with metrics on, and with metrics on while /metrics is scraped every
 * second, phases taking turns so that the machine's drift falls on all three. Each host counts from a fresh data
 * directory, so /metrics of the scraped one can be checked against the bench's own counts.
 */
export async function measureMetricsCost(
  options: BenchOptions,
  work: string,
): Promise<MetricsCost> {
  const connections = options.connections[options.connections.length - 1];
  const hosts = {} as Record<Setting, ChildServer>;
  const dataDirs = {} as Record<Setting, string>;
  for (const setting of SETTINGS) {
    dataDirs[setting] = path.join(work, setting);
    await fs.mkdir(dataDirs[setting], { recursive: true });
    await fs.writeFile(path.join(dataDirs[setting], DATA_FILE), '0');
    hosts[setting] = await startHost({
      appRoot: path.resolve(__dirname, '..', '..'),
      dataDir: dataDirs[setting],
      groupCommit: true,
      nodeFlags: options.hostNodeFlags,
      env: { COUNTER_METRICS: String(setting !== 'metricsOff') },
    });
  }
  try {
    const scraped = hosts.metricsOnScraped.url;
    const requestsPerSecond = {} as MetricsCost['requestsPerSecond'];
    const cpuMicrosPerRequest = {} as MetricsCost['cpuMicrosPerRequest'];
    let acknowledged = 0;
    let changesCounted = 0;
    let requestsCounted = 0;
    for (const { key, method, route } of ROUTES) {
      const url = (setting: Setting) => hosts[setting].url + route;
      for (const setting of SETTINGS) {
        await load([url(setting)], method, connections, { seconds: options.warmupSeconds * 2 });
      }
      // The same number of requests in every phase: the rate of the host without metrics.
      const rate = await load([url('metricsOff')], method, connections, {
        seconds: options.warmupSeconds,
      });
      const amount = Math.max(
        connections,
        Math.round(rate.requestsPerSecond * options.durationSeconds),
      );
      requestsPerSecond[key] = { metricsOff: [], metricsOn: [], metricsOnScraped: [] };
      cpuMicrosPerRequest[key] = { metricsOff: [], metricsOn: [], metricsOnScraped: [] };
      for (let round = 0; round < options.rounds; round++) {
        // Each round in another order, so no setting always runs first.
        const order = SETTINGS.map((_, i) => SETTINGS[(i + round) % SETTINGS.length]);
        for (const setting of order) {
          const counted = key === 'post' && setting === 'metricsOnScraped';
          const before = counted ? await scrape(scraped) : undefined;
          const scraper = setting === 'metricsOnScraped' ? keepScraping(scraped) : undefined;
          const cpuBefore = await cpuMicros(hosts[setting].pid);
          const result = await load([url(setting)], method, connections, { amount });
          const cpu = (await cpuMicros(hosts[setting].pid)) - cpuBefore;
          await scraper?.stop();
          requestsPerSecond[key][setting].push(result.requestsPerSecond);
          cpuMicrosPerRequest[key][setting].push(cpu / result.responses);
          if (before !== undefined) {
            const after = await scrape(scraped);
            acknowledged += result.ok;
            changesCounted += increments(after) - increments(before);
            requestsCounted += answered(after) - answered(before);
          }
        }
      }
    }
    // Every request has been answered, so every change has landed in data.bin.
    const changesTotal = increments(await scrape(scraped));
    const storedValue = await storedTotal([dataDirs.metricsOnScraped]);
    const ratio = (of: (key: RouteKey) => number) =>
      Object.fromEntries(ROUTES.map(({ key }) => [key, of(key)])) as Record<RouteKey, number>;
    const rps = (key: RouteKey, setting: Setting) => median(requestsPerSecond[key][setting]);
    const cpu = (key: RouteKey, setting: Setting) => median(cpuMicrosPerRequest[key][setting]);
    return {
      connections,
      requestsPerSecond,
      ratioOn: ratio((key) => rps(key, 'metricsOn') / rps(key, 'metricsOff')),
      ratioOnScraped: ratio((key) => rps(key, 'metricsOnScraped') / rps(key, 'metricsOff')),
      cpuMicrosPerRequest,
      cpuRatioOn: ratio((key) => cpu(key, 'metricsOff') / cpu(key, 'metricsOn')),
      agreement: {
        acknowledged,
        changesCounted,
        requestsCounted,
        changesTotal,
        storedValue: storedValue.toString(),
        ok:
          changesCounted === acknowledged &&
          requestsCounted === acknowledged &&
          BigInt(changesTotal) === storedValue,
      },
    };
  } finally {
    await Promise.all(SETTINGS.map((setting) => hosts[setting].stop()));
  }
}

/** The lines `npm run bench` prints under its table. */
export function describeMetricsCost(cost: MetricsCost): string {
  const { agreement: a } = cost;
  const lines = ROUTES.map(({ key, method, route }) => {
    const med = (setting: Setting) => median(cost.requestsPerSecond[key][setting]).toFixed(0);
    const cpu = (setting: Setting) => median(cost.cpuMicrosPerRequest[key][setting]).toFixed(0);
    return (
      `Metrics cost, ${method} ${route} @${cost.connections} (medians): off ${med('metricsOff')} ` +
      `req/s, on ${med('metricsOn')} req/s (${cost.ratioOn[key].toFixed(3)}×), on and scraped ` +
      `every ${SCRAPE_EVERY_MS / 1000} s ${med('metricsOnScraped')} req/s ` +
      `(${cost.ratioOnScraped[key].toFixed(3)}×); host CPU per request off ${cpu('metricsOff')} µs, ` +
      `on ${cpu('metricsOn')} µs (off ÷ on ${cost.cpuRatioOn[key].toFixed(3)}×); ` +
      `target ≥ 0.95×.\n`
    );
  });
  return (
    lines.join('') +
    `/metrics agreed with the bench's counts: ${a.ok ? 'yes' : 'NO'} ` +
    `(acknowledged ${a.acknowledged}, changes counted ${a.changesCounted}, requests counted ` +
    `${a.requestsCounted}; changes_total ${a.changesTotal}, data.bin ${a.storedValue}).\n`
  );
}

/** CPU time a process has used so far (user + system), from /proc, in microseconds. */
async function cpuMicros(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'latin1');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / CLOCK_TICKS_PER_SECOND) * 1e6;
}

// USER_HZ, 100 on every Linux architecture Node supports.
const CLOCK_TICKS_PER_SECOND = 100;

async function scrape(url: string): Promise<Scrape> {
  const reply = await fetch(`${url}/metrics`);
  if (reply.status !== 200) throw new Error(`GET /metrics answered ${reply.status}`);
  return new Scrape(await reply.text());
}

const increments = (s: Scrape) => s.value('rusty_counter_changes_total', { kind: 'increment' });
const answered = (s: Scrape) =>
  s.value('rusty_counter_http_requests_total', {
    function: 'increment',
    method: 'POST',
    status: '200',
  });

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
