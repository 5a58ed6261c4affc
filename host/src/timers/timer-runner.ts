import type { Schedule } from './resolve-schedule';
import type { TimerInfo } from '../converters/to-rpc-timer-info';

// setTimeout cannot wait longer than 2^31-1 ms (about 24.8 days); longer waits are chained.
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Fires one timer function on its schedule. Runs never overlap: the next occurrence is
 * planned only when a run has finished, and occurrences missed meanwhile (or while the
 * process was stalled) become one immediate run with `isPastDue` set.
 */
export class TimerRunner {
  private readonly schedule: Schedule;
  private readonly run: (info: TimerInfo) => Promise<void>;
  private lastIntended: Date;
  private timeout: NodeJS.Timeout | undefined;
  private stopped = false;

  /** `run` reports its own failures; it must not reject. */
  constructor(schedule: Schedule, run: (info: TimerInfo) => Promise<void>) {
    this.schedule = schedule;
    this.run = run;
    this.lastIntended = new Date();
  }

  start(runOnStartup: boolean): void {
    if (runOnStartup) void this.fire(new Date(), false);
    else this.waitFor(this.schedule.nextAfter(this.lastIntended));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timeout);
  }

  private waitFor(intended: Date | undefined): void {
    if (this.stopped || !intended) return;
    const delay = intended.getTime() - Date.now();
    if (delay > LONGEST_TIMEOUT_MS) {
      this.timeout = setTimeout(() => this.waitFor(intended), LONGEST_TIMEOUT_MS);
    } else {
      this.timeout = setTimeout(() => void this.fire(intended, false), Math.max(0, delay));
    }
  }

  private async fire(intended: Date, missedWhileRunning: boolean): Promise<void> {
    if (this.stopped) return;
    const startedAt = new Date();
    // Occurrences that passed before this run could start are folded into it.
    const firedLate = (this.schedule.nextAfter(intended) ?? startedAt) < startedAt;
    // A timeout may fire a moment before the wall clock reaches `intended`.
    const next = this.schedule.nextAfter(startedAt > intended ? startedAt : intended);
    await this.run({
      isPastDue: missedWhileRunning || firedLate,
      adjustForDST: this.schedule.adjustForDST,
      last: this.lastIntended,
      next,
      lastUpdated: startedAt,
    });
    this.lastIntended = intended;
    if (this.stopped) return;

    const now = new Date();
    if (next !== undefined && next <= now) void this.fire(now, true);
    else this.waitFor(next);
  }
}
