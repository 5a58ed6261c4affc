import type { RpcTypedData } from '../core/core-types';

export interface TimerInfo {
  isPastDue: boolean;
  adjustForDST: boolean;
  /** The intended time of the previous run (of this host's first run: when the timer started). */
  last: Date;
  /** The next occurrence after this run. */
  next: Date | undefined;
  lastUpdated: Date;
}

/**
 * The timer input as the Functions host sends it: JSON with PascalCase keys, which the
 * library camel-cases into `{isPastDue, schedule: {adjustForDST}, scheduleStatus: {...}}`.
 */
export function toRpcTimerInfo(info: TimerInfo): RpcTypedData {
  return {
    json: JSON.stringify({
      Schedule: { AdjustForDST: info.adjustForDST },
      ScheduleStatus: {
        Last: info.last.toISOString(),
        Next: info.next?.toISOString() ?? null,
        LastUpdated: info.lastUpdated.toISOString(),
      },
      IsPastDue: info.isPastDue,
    }),
  };
}
