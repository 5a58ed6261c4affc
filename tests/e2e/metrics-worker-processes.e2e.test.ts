import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type HostProcess, startHost } from '../support/host-process';
import { conformantRequest as request } from '../openapi-conformance';
import { tempDir } from '../support/temp-dir';
import {
  answeredIncrementsOf as answered,
  incrementsOf as increments,
  Scrape,
} from '../../bench/scrape';

// GET /metrics of a host running two app processes (FUNCTIONS_WORKER_PROCESS_COUNT=2) behind
// one port: whichever process a scrape reaches, it answers for both.

jest.setTimeout(120_000);

const NO_BACKUPS = '0 0 0 1 1 *';
const NAMES = ['red', 'green', 'blue'];
// Generous: on a loaded machine a process's snapshot timer (every 5 s) may run late.
const DEADLINE_MS = 60_000;

let host: HostProcess;
let tmp: ReturnType<typeof tempDir>;
/** Where the host's app processes write their figures: the temp directory, by host pid. */
let shared: string;
/** Increments answered 200, all told. */
let sent = 0;

beforeAll(async () => {
  tmp = tempDir('rusty-counter-tmp-');
  host = await startHost({
    env: {
      FUNCTIONS_WORKER_PROCESS_COUNT: '2',
      TMPDIR: tmp.dir,
      BACKUP_SCHEDULE: NO_BACKUPS,
      LOG_LEVEL: 'warning',
    },
    readyTimeoutMs: 30_000,
  });
  shared = path.join(tmp.dir, `rusty-counter-metrics-${host.proc.pid}`);
});
afterAll(async () => {
  await host?.stop('SIGKILL');
  tmp?.remove();
});

async function scrape(): Promise<Scrape> {
  const reply = await request(`${host.url}/metrics`);
  expect(reply.status).toBe(200);
  return new Scrape(reply.text);
}

/** `count` increments over new connections (one per request), four at a time. */
async function increment(count: number): Promise<void> {
  let next = 0;
  const connection = async () => {
    while (next < count) {
      const reply = await request(`${host.url}/increment/${NAMES[next++ % NAMES.length]}`, {
        method: 'POST',
      });
      expect(reply.status).toBe(200);
      sent++;
    }
  };
  await Promise.all(Array.from({ length: 4 }, connection));
}

/** The increments each process has written to its own file (retired once it exited), by pid. */
function incrementsByProcess(): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const name of readdirSync(shared)) {
    const match = /^(\d+)-\d+(?:\.retired)?\.json$/.exec(name);
    if (match === null) continue;
    const snapshot = JSON.parse(readFileSync(path.join(shared, name), 'utf8')) as Array<{
      name: string;
      values: Array<{ value: number; labels: Record<string, string> }>;
    }>;
    const changes = snapshot.find((metric) => metric.name === 'rusty_counter_changes_total');
    const value = changes?.values.find((v) => v.labels.kind === 'increment')?.value ?? 0;
    byPid.set(Number(match[1]), value);
  }
  return byPid;
}

/** Waits until the processes' own files account for every increment sent. */
async function filesCaughtUp(): Promise<Map<number, number>> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const byPid = incrementsByProcess();
    const total = [...byPid.values()].reduce((sum, n) => sum + n, 0);
    if (total === sent || Date.now() > deadline) return byPid;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('FUNCTIONS_WORKER_PROCESS_COUNT=2', () => {
  it('counts in every scrape the increments of both processes, whichever answers', async () => {
    // The kernel hands each new connection to either process, not necessarily in turn: more
    // rounds until both have served some.
    let byPid = new Map<number, number>();
    for (let round = 0; round < 10; round++) {
      await increment(20);
      byPid = await filesCaughtUp();
      if ([...byPid.values()].filter((n) => n > 0).length === 2) break;
    }
    expect(byPid.size).toBe(2);
    for (const served of byPid.values()) {
      expect(served).toBeGreaterThan(0);
      expect(served).toBeLessThan(sent);
    }

    // Every file is up to date now, so every answer holds all of them, and no scrape can see
    // one process alone: that would be less than `sent`.
    for (let i = 0; i < 12; i++) {
      const s = await scrape();
      expect(increments(s)).toBe(sent);
      expect(answered(s)).toBe(sent);
      expect(s.value('rusty_counter_worker_processes')).toBe(2);
      // Storage's own figure, read once, not once per process.
      expect(s.value('rusty_counter_named_counters')).toBe(NAMES.length);
    }
  });

  it('goes on counting the increments of a process that was killed, while its replacement starts', async () => {
    const [victim] = [...(await filesCaughtUp()).keys()];
    process.kill(victim, 'SIGKILL');
    await host.waitForLog(new RegExp(`worker process ${victim} exited on SIGKILL`), DEADLINE_MS);

    // Until the replacement writes its figures, one process answers; never with fewer changes.
    const deadline = Date.now() + DEADLINE_MS;
    let s = await scrape();
    while (s.value('rusty_counter_worker_processes') < 2 && Date.now() < deadline) {
      expect(increments(s)).toBe(sent);
      await new Promise((resolve) => setTimeout(resolve, 200));
      s = await scrape();
    }
    expect(s.value('rusty_counter_worker_processes')).toBe(2);
    expect(readdirSync(shared)).toContainEqual(
      expect.stringMatching(`^${victim}-\\d+\\.retired\\.json$`),
    );

    await increment(10);
    await filesCaughtUp();
    for (let i = 0; i < 8; i++) expect(increments(await scrape())).toBe(sent);
  });

  it('removes the directory of its figures when the host stops', async () => {
    expect(existsSync(shared)).toBe(true);
    await expect(host.stop('SIGTERM')).resolves.toEqual({ code: 0, signal: null });
    expect(existsSync(shared)).toBe(false);
  });
});
