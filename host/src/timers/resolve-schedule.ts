import { Cron } from 'croner';
import { HostStartupError } from '../utils/host-startup-error';

/** When a timer fires. */
export interface Schedule {
  /** For logs, e.g. `NCRONTAB "*\/5 * * * * *"` or `every 00:01:30`. */
  readonly description: string;
  /** Passed to the handler as `schedule.adjustForDST`, as the host does. */
  readonly adjustForDST: boolean;
  /** The first occurrence strictly after `time`, or undefined if there is none. */
  nextAfter(time: Date): Date | undefined;
}

const TIME_SPAN_SYNTAX = /^(?:(\d+)\.)?(\d+):(\d+)(?::(\d+))?$/;

/**
 * A timer's schedule as the Functions host reads it: an NCRONTAB expression with six fields
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`) or five (no seconds), or a
 * TimeSpan (`hh:mm:ss`, `d.hh:mm:ss`, `hh:mm`; a first number of 24 or more means days,
 * as in `24:00:00`). Cron times follow `timezone` (an IANA name), else the local time zone.
 */
export function resolveSchedule(expression: string, timezone?: string): Schedule {
  const trimmed = expression.trim();
  if (TIME_SPAN_SYNTAX.test(trimmed)) return timeSpanSchedule(trimmed);
  return cronSchedule(trimmed, timezone);
}

function cronSchedule(expression: string, timezone: string | undefined): Schedule {
  const fields = expression.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new HostStartupError(
      `the schedule "${expression}" is neither an NCRONTAB expression of six fields ({second} {minute} {hour} {day} {month} {day-of-week}, e.g. "0 */5 * * * *") or five, nor a TimeSpan such as "00:05:00"`,
    );
  }
  let cron: Cron;
  try {
    // NCRONTAB requires both the day and the day of week to match when both are given.
    cron = new Cron(fields.join(' '), {
      paused: true,
      mode: '5-or-6-parts',
      domAndDow: true,
      timezone,
    });
  } catch (err) {
    throw new HostStartupError(
      `the schedule "${expression}" is not a valid NCRONTAB expression: ${(err as Error).message}`,
    );
  }
  if (!cron.nextRun()) throw new HostStartupError(`the schedule "${expression}" never fires`);
  return {
    description: `NCRONTAB "${fields.join(' ')}"`,
    adjustForDST: true,
    nextAfter: (time) => cron.nextRun(time) ?? undefined,
  };
}

function timeSpanSchedule(expression: string): Schedule {
  const [, daysPart, first = '0', second = '0', third] = TIME_SPAN_SYNTAX.exec(expression) ?? [];
  let days = Number(daysPart ?? 0);
  let hours: number;
  let minutes: number;
  let seconds: number;
  if (third === undefined) {
    [hours, minutes, seconds] = [Number(first), Number(second), 0];
  } else if (daysPart === undefined && Number(first) >= 24) {
    [days, hours, minutes, seconds] = [Number(first), Number(second), Number(third), 0];
  } else {
    [hours, minutes, seconds] = [Number(first), Number(second), Number(third)];
  }
  if (hours > 23 || minutes > 59 || seconds > 59) {
    throw new HostStartupError(`the schedule "${expression}" is not a valid TimeSpan (hh:mm:ss)`);
  }
  const intervalMs = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
  if (intervalMs === 0)
    throw new HostStartupError(`the schedule "${expression}" is an interval of zero`);
  return {
    description: `every ${expression}`,
    adjustForDST: false,
    nextAfter: (time) => new Date(time.getTime() + intervalMs),
  };
}
