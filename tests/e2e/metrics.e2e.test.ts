import { readdirSync } from 'node:fs';
import { type HostProcess, startHost } from '../support/host-process';
import { conformantRequest as request } from '../openapi-conformance';
import { mountTmpfs, tempDir } from '../support/temp-dir';
import { Scrape } from '../../bench/scrape';

// GET /metrics through the offline host, over HTTP: requests are counted by the library's
// invocation hooks, which the host runs as the Functions worker does.

const NO_BACKUPS = '0 0 0 1 1 *';
let host: HostProcess;
let tmpfs: ReturnType<typeof mountTmpfs>;
/** The host's temp directory, where several app processes would share their figures. */
let tmp: ReturnType<typeof tempDir>;

// On tmpfs, because 600 counters are created, each with its fsyncs (seconds, not minutes).
beforeAll(async () => {
  tmpfs = mountTmpfs(32 * 1024);
  tmp = tempDir('rusty-counter-tmp-');
  host = await startHost({
    dataDir: tmpfs.dir,
    env: {
      BACKUP_SCHEDULE: NO_BACKUPS,
      LOG_LEVEL: 'warning',
      FUNCTIONS_WORKER_PROCESS_COUNT: undefined,
      TMPDIR: tmp.dir,
    },
  });
});
afterAll(async () => {
  await host?.stop();
  tmpfs?.unmount();
  tmp?.remove();
});

async function scrape(): Promise<Scrape> {
  const reply = await request(`${host.url}/metrics`);
  expect(reply.status).toBe(200);
  return new Scrape(reply.text);
}

const post = async (route: string) => {
  const reply = await request(`${host.url}${route}`, { method: 'POST' });
  return reply.status;
};

/** Runs `count` calls of `task`, `parallel` at a time. */
async function inParallel(count: number, parallel: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

const requestsOf = (s: Scrape, fn: string, method: string, status: string) =>
  s.value('rusty_counter_http_requests_total', { function: fn, method, status });

it("answers in Prometheus' text format, open without a key, with Node's process metrics", async () => {
  const reply = await request(`${host.url}/metrics`);
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = new Scrape(reply.text).families.map((family) => family.name);
  expect(families).toEqual(
    expect.arrayContaining([
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'rusty_counter_http_requests_total',
      'rusty_counter_changes_total',
      'rusty_counter_storage_refusals_total',
      'rusty_counter_healings_total',
      'rusty_counter_backup_runs_total',
      'rusty_counter_watchers',
      'rusty_counter_named_counters',
    ]),
  );
});

it('answers for its one app process, without writing its figures anywhere, when FUNCTIONS_WORKER_PROCESS_COUNT is unset', async () => {
  await post('/increment');
  expect((await scrape()).value('rusty_counter_worker_processes')).toBe(1);
  expect(readdirSync(tmp.dir)).toEqual([]);
});

it('reads N more changes and N more answered requests after N increments', async () => {
  // A series appears with its first request.
  await post('/increment');
  const before = await scrape();
  await inParallel(20, 4, () => post('/increment'));
  const after = await scrape();
  const changes = (s: Scrape) => s.value('rusty_counter_changes_total', { kind: 'increment' });
  expect(changes(after) - changes(before)).toBe(20);
  expect(
    requestsOf(after, 'increment', 'POST', '200') - requestsOf(before, 'increment', 'POST', '200'),
  ).toBe(20);
});

it('counts requests by function, method and status, whatever the handler answered', async () => {
  await expect(post('/increment?by=x')).resolves.toBe(400);
  await expect(post('/openapi.json')).resolves.toBe(405);
  const s = await scrape();
  expect(requestsOf(s, 'increment', 'POST', '400')).toBe(1);
  expect(requestsOf(s, 'notFound', 'POST', '405')).toBe(1);
});

it('keeps the number of series fixed while 600 new names are changed and read', async () => {
  // Node's own series vary with the process (kinds of handles, of GC), never with names.
  const ownSeries = (s: Scrape) => s.seriesCount('rusty_counter_');
  // Every route and answer of the flood once, so that only names differ afterwards.
  await post('/increment/warm-up');
  await request(`${host.url}/get/warm-up`);
  const before = await scrape();
  await inParallel(600, 8, async (i) => {
    await post(`/increment/flood-${i}`);
    await request(`${host.url}/get/flood-${i}`);
  });
  const after = await scrape();

  expect(after.value('rusty_counter_named_counters')).toBe(
    before.value('rusty_counter_named_counters') + 600,
  );
  expect(ownSeries(after)).toBe(ownSeries(before));
  const labels = after.families.flatMap((f) =>
    f.metrics.flatMap((sample) => Object.values(sample.labels ?? {})),
  );
  expect(labels.filter((value) => value.startsWith('flood-'))).toEqual([]);
});
