import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ReadyServer, request, spawnHostProcess, startHostProcess } from '../../src';

const workersApp = path.join(__dirname, '../fixtures/workers-app');

jest.setTimeout(60_000);

let host: ReadyServer;
let ticksDir: string;

beforeAll(async () => {
  ticksDir = mkdtempSync(path.join(tmpdir(), 'host-workers-'));
  host = await startHostProcess({
    appRoot: workersApp,
    env: { FUNCTIONS_WORKER_PROCESS_COUNT: '2', TICKS_DIR: ticksDir, LOG_LEVEL: 'information' },
    readyTimeoutMs: 30_000,
  });
});

afterAll(async () => {
  await host?.stop('SIGKILL');
  rmSync(ticksDir, { recursive: true, force: true });
});

/** The pids that answer, over new connections, until `enough` holds (at most 200 requests). */
async function answeringPids(enough: (pids: Set<number>) => boolean): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < 200 && !enough(pids); i++) {
    const reply = await request(`${host.url}/api/whoami`);
    expect(reply.status).toBe(200);
    pids.add((reply.json() as { pid: number }).pid);
  }
  return pids;
}

function ticks(): { next: string; pid: string }[] {
  let text = '';
  try {
    text = readFileSync(path.join(ticksDir, 'ticks.log'), 'utf8');
  } catch {
    // No run yet.
  }
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [next, pid] = line.split(' ');
      return { next, pid };
    });
}

describe('FUNCTIONS_WORKER_PROCESS_COUNT=2', () => {
  it('serves from two worker processes behind the one port', async () => {
    const pids = await answeringPids((seen) => seen.size >= 2);
    expect(pids.size).toBe(2);
    expect(pids.has(host.proc.pid ?? 0)).toBe(false);
  });

  it('runs each timer once per schedule, in one process', async () => {
    while (ticks().length < 4) await new Promise((resolve) => setTimeout(resolve, 200));
    const runs = ticks();
    // Each run names the occurrence after it: two processes running timers would repeat them.
    expect(new Set(runs.map((run) => run.next)).size).toBe(runs.length);
    expect(new Set(runs.map((run) => run.pid)).size).toBe(1);
  });

  it('replaces a crashed worker while the other serves', async () => {
    const before = await answeringPids((seen) => seen.size >= 2);
    const crash = await request(`${host.url}/api/crash`, { method: 'POST' });
    expect(crash.status).toBe(202);
    // Meanwhile every request is answered, by the worker left.
    for (let i = 0; i < 20; i++) {
      expect((await request(`${host.url}/api/whoami`)).status).toBe(200);
    }
    await host.waitForLog(/worker process \d+ exited on SIGKILL; starting another/, 30_000);
    const after = await answeringPids(
      (seen) => seen.size >= 2 && [...seen].some((pid) => !before.has(pid)),
    );
    expect(after.size).toBe(2);
    expect([...after].filter((pid) => !before.has(pid))).toHaveLength(1);
  });

  it('drains every worker on SIGTERM and exits 0', async () => {
    const exit = await host.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
  });
});

describe('FUNCTIONS_WORKER_PROCESS_COUNT', () => {
  it.each(['0', '11', 'two'])('refuses %s with one clear line', async (count) => {
    const server = spawnHostProcess({
      appRoot: workersApp,
      env: { FUNCTIONS_WORKER_PROCESS_COUNT: count },
    });
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    expect(server.logs()).toContain(
      `FUNCTIONS_WORKER_PROCESS_COUNT must be a whole number from 1 to 10; got "${count}"`,
    );
  });
});
