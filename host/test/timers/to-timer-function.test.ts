import { findTriggerBinding } from '../../src/app/find-trigger-binding';
import { toTimerFunction } from '../../src/timers/to-timer-function';

function timerOf(trigger: Record<string, unknown>, env: Record<string, string> = {}) {
  const metadata = {
    name: 'backup',
    bindings: { timerTrigger1: { type: 'timerTrigger', direction: 'in' as const, ...trigger } },
  };
  const binding = findTriggerBinding(metadata);
  if (!binding) throw new Error('no trigger');
  return toTimerFunction({ metadata, callback: () => undefined }, binding, env, 'UTC');
}

describe('toTimerFunction', () => {
  it('resolves the schedule, %AppSetting% references included', () => {
    const timer = timerOf({ schedule: '%BACKUP_SCHEDULE%' }, { BACKUP_SCHEDULE: '*/5 * * * * *' });
    expect(timer.schedule.description).toBe('NCRONTAB "*/5 * * * * *"');
    expect(timer.triggerName).toBe('timerTrigger1');
    expect(timer.runOnStartup).toBe(false);
  });

  it('honours runOnStartup', () => {
    expect(timerOf({ schedule: '0 * * * * *', runOnStartup: true }).runOnStartup).toBe(true);
  });

  it('fails start-up naming the function when the schedule is invalid or missing', () => {
    expect(() => timerOf({ schedule: 'soon' })).toThrow(
      /^the schedule of timer function "backup": the schedule "soon"/,
    );
    expect(() => timerOf({})).toThrow('the schedule of timer function "backup" is missing');
  });
});
