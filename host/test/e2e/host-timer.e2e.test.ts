import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ReadyServer, startHostProcess } from '../../src';

const basicApp = path.join(__dirname, '../fixtures/basic-app');

interface Tick {
  started: number;
  timer: {
    isPastDue: boolean;
    schedule: { adjustForDST: boolean };
    scheduleStatus: { last: string; next: string; lastUpdated: string };
  };
}

let host: ReadyServer | undefined;
/** Where the fixture's timer appends what it receives (its TICKS_DIR). */
let ticksDir: string;

beforeEach(() => {
  ticksDir = mkdtempSync(path.join(os.tmpdir(), 'host-timer-'));
});

afterEach(async () => {
  await host?.stop();
  host = undefined;
  rmSync(ticksDir, { recursive: true, force: true });
});

/** The host on the fixture app, its timer writing to this test's TICKS_DIR. */
const startTicker = (env: Record<string, string>) =>
  startHostProcess({
    appRoot: basicApp,
    env: { TICKS_DIR: ticksDir, LOG_LEVEL: 'information', ...env },
  });

const ticksOf = (): Tick[] => {
  const file = path.join(ticksDir, 'ticks.jsonl');
  if (!existsSync(file)) return [];
  // Only whole lines: the fixture may be in the middle of appending one.
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Tick);
};

async function waitForTicks(
  running: ReadyServer,
  count: number,
  timeoutMs = 8000,
): Promise<Tick[]> {
  const deadline = Date.now() + timeoutMs;
  while (ticksOf().length < count) {
    if (Date.now() > deadline)
      throw new Error(`fewer than ${count} ticks in ${timeoutMs} ms:\n${running.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return ticksOf();
}

it('fires a six-field NCRONTAB schedule from %AppSetting% every second, passing the timer as the host does', async () => {
  host = await startTicker({ TICK_SCHEDULE: '* * * * * *' });
  const ticks = await waitForTicks(host, 2);
  for (const { timer } of ticks) {
    expect(timer.isPastDue).toBe(false);
    expect(timer.schedule).toEqual({ adjustForDST: true });
    const { last, next, lastUpdated } = timer.scheduleStatus;
    expect(new Date(next).getTime()).toBeGreaterThan(new Date(lastUpdated).getTime());
    expect(new Date(next).getMilliseconds()).toBe(0);
    expect(new Date(last).getTime()).toBeLessThanOrEqual(new Date(lastUpdated).getTime());
  }
  // The second run reports the first run's occurrence as its last.
  expect(new Date(ticks[1].timer.scheduleStatus.last).getTime()).toBe(
    new Date(ticks[0].timer.scheduleStatus.next).getTime() - 1000,
  );
  await host.waitForLog(/INFO {2}\[ticker\] timer -> succeeded in \d+\.\d ms/);
  // Core Tools' lines, as around any invocation.
  expect(host.logs()).toMatch(
    /INFO {2}\[ticker\] Executing 'Functions\.ticker' \(Reason='Timer fired at \d{4}-\d\d-\d\dT[\d:.]+Z', Id=[0-9a-f-]{36}\)/,
  );
  expect(host.logs()).toMatch(
    /INFO {2}\[ticker\] Executed 'Functions\.ticker' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)/,
  );
});

it('never overlaps runs of one timer, and marks the run after missed occurrences past due', async () => {
  // Each run takes 1.2 s on a one-second schedule.
  host = await startTicker({ TICK_SCHEDULE: '* * * * * *', TICK_HOLD_MS: '1200' });
  const ticks = await waitForTicks(host, 3);
  for (let i = 1; i < ticks.length; i++) {
    expect(ticks[i].started - ticks[i - 1].started).toBeGreaterThanOrEqual(1200);
  }
  expect(ticks[0].timer.isPastDue).toBe(false);
  expect(ticks.slice(1).every((tick) => tick.timer.isPastDue)).toBe(true);
  expect(host.logs()).toMatch(/\[ticker\] timer \(past due\) -> succeeded/);
});

it('fires a TimeSpan schedule (hh:mm:ss) at its interval', async () => {
  host = await startTicker({ TICK_SCHEDULE: '00:00:01' });
  const ticks = await waitForTicks(host, 2);
  const startTimes = ticks.map((tick) => new Date(tick.timer.scheduleStatus.lastUpdated).getTime());
  expect(startTimes[1] - startTimes[0]).toBeGreaterThanOrEqual(990);
  for (const { timer } of ticks) {
    const { lastUpdated, next } = timer.scheduleStatus;
    expect(new Date(next).getTime() - new Date(lastUpdated).getTime()).toBe(1000);
    expect(timer.schedule).toEqual({ adjustForDST: false });
  }
});

it('waits for a running timer invocation on shutdown', async () => {
  host = await startTicker({ TICK_SCHEDULE: '* * * * * *', TICK_HOLD_MS: '1000' });
  await waitForTicks(host, 1);
  expect(await host.stop()).toEqual({ code: 0, signal: null });
  expect(host.logs()).toMatch(/\[ticker\] timer -> succeeded[^]*appTerminate hook ran/);
});
