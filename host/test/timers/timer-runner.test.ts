import type { Schedule } from '../../src/timers/resolve-schedule';
import { TimerRunner } from '../../src/timers/timer-runner';
import type { TimerInfo } from '../../src/converters/to-rpc-timer-info';

const everySecond: Schedule = {
  description: 'every second',
  adjustForDST: true,
  nextAfter: (time) => new Date(Math.floor(time.getTime() / 1000) * 1000 + 1000),
};

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2025-01-01T00:00:00.200Z') });
});

afterEach(() => {
  jest.useRealTimers();
});

/** A run function that records its calls and lasts `durationMs` of fake time. */
function recorder(durationMs: number) {
  const runs: { at: number; info: TimerInfo }[] = [];
  const run = (info: TimerInfo) => {
    runs.push({ at: Date.now(), info });
    return new Promise<void>((resolve) => setTimeout(resolve, durationMs));
  };
  return { runs, run };
}

describe('TimerRunner', () => {
  it('runs at each occurrence with last, next and lastUpdated', async () => {
    const { runs, run } = recorder(10);
    const runner = new TimerRunner(everySecond, run);
    runner.start(false);
    await jest.advanceTimersByTimeAsync(2700);
    runner.stop();
    expect(runs.map((r) => new Date(r.at).toISOString())).toEqual([
      '2025-01-01T00:00:01.000Z',
      '2025-01-01T00:00:02.000Z',
    ]);
    expect(runs[1].info).toEqual({
      isPastDue: false,
      adjustForDST: true,
      last: new Date('2025-01-01T00:00:01.000Z'),
      next: new Date('2025-01-01T00:00:03.000Z'),
      lastUpdated: new Date('2025-01-01T00:00:02.000Z'),
    });
  });

  it('runs at once when asked to run on start-up', async () => {
    const { runs, run } = recorder(10);
    const runner = new TimerRunner(everySecond, run);
    runner.start(true);
    await jest.advanceTimersByTimeAsync(0);
    runner.stop();
    expect(runs).toHaveLength(1);
    expect(runs[0].at).toBe(new Date('2025-01-01T00:00:00.200Z').getTime());
  });

  it('never starts a run while the previous one is still going, and marks the catch-up run past due', async () => {
    const { runs, run } = recorder(2500);
    let running = 0;
    let overlapped = false;
    const runner = new TimerRunner(everySecond, async (info) => {
      overlapped ||= running > 0;
      running++;
      await run(info);
      running--;
    });
    runner.start(false);
    await jest.advanceTimersByTimeAsync(6000);
    runner.stop();
    expect(overlapped).toBe(false);
    // 1.0 s, then 3.5 s and 6.0 s: one run each time the previous one ends, not one per missed second.
    expect(runs.map((r) => r.at - Date.UTC(2025, 0, 1))).toEqual([1000, 3500, 6000]);
    expect(runs.map((r) => r.info.isPastDue)).toEqual([false, true, true]);
  });

  it('marks a run past due when it starts after the next occurrence has passed', async () => {
    const { runs, run } = recorder(10);
    const runner = new TimerRunner(everySecond, run);
    runner.start(false);
    // The event loop is blocked past the first two occurrences.
    jest.setSystemTime(new Date('2025-01-01T00:00:02.500Z'));
    await jest.advanceTimersByTimeAsync(900);
    runner.stop();
    expect(runs[0].info.isPastDue).toBe(true);
  });

  it('stops firing once stopped', async () => {
    const { runs, run } = recorder(10);
    const runner = new TimerRunner(everySecond, run);
    runner.start(false);
    runner.stop();
    await jest.advanceTimersByTimeAsync(5000);
    expect(runs).toHaveLength(0);
  });

  it('waits longer than setTimeout allows by chaining timeouts', async () => {
    const { runs, run } = recorder(10);
    const inFortyDays: Schedule = {
      ...everySecond,
      nextAfter: (time) => new Date(time.getTime() + 40 * 86_400_000),
    };
    const runner = new TimerRunner(inFortyDays, run);
    runner.start(false);
    await jest.advanceTimersByTimeAsync(39 * 86_400_000);
    expect(runs).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(2 * 86_400_000);
    runner.stop();
    expect(runs).toHaveLength(1);
  });
});
