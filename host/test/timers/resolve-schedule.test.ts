import { HostStartupError } from '../../src/utils/host-startup-error';
import { resolveSchedule } from '../../src/timers/resolve-schedule';

const at = (iso: string) => new Date(iso);

describe('resolveSchedule', () => {
  it('reads a six-field NCRONTAB expression with seconds', () => {
    const schedule = resolveSchedule('*/15 * * * * *', 'UTC');
    expect(schedule.nextAfter(at('2025-01-01T00:00:07Z'))).toEqual(at('2025-01-01T00:00:15Z'));
    expect(schedule.nextAfter(at('2025-01-01T00:00:15Z'))).toEqual(at('2025-01-01T00:00:30Z'));
    expect(schedule.adjustForDST).toBe(true);
  });

  it('reads a five-field NCRONTAB expression as minutes', () => {
    const schedule = resolveSchedule('*/5 * * * *', 'UTC');
    expect(schedule.nextAfter(at('2025-01-01T00:01:30Z'))).toEqual(at('2025-01-01T00:05:00Z'));
  });

  it('requires day and day of week both to match when both are given, as NCRONTAB does', () => {
    // 2025-06-13 is the first Friday the 13th after New Year 2025.
    const schedule = resolveSchedule('0 0 12 13 * FRI', 'UTC');
    expect(schedule.nextAfter(at('2025-01-01T00:00:00Z'))).toEqual(at('2025-06-13T12:00:00Z'));
  });

  it('follows the given time zone', () => {
    const schedule = resolveSchedule('0 0 9 * * *', 'Europe/Berlin');
    expect(schedule.nextAfter(at('2025-01-01T00:00:00Z'))).toEqual(at('2025-01-01T08:00:00Z'));
  });

  it.each([
    ['00:00:30', 30_000],
    ['01:30:00', 5_400_000],
    ['00:05', 300_000],
    ['1.00:00:00', 86_400_000],
    ['24:00:00', 24 * 86_400_000],
  ])('reads the TimeSpan %s as a fixed interval', (expression, intervalMs) => {
    const schedule = resolveSchedule(expression);
    const start = at('2025-01-01T00:00:00Z');
    expect((schedule.nextAfter(start)?.getTime() ?? NaN) - start.getTime()).toBe(intervalMs);
    expect(schedule.adjustForDST).toBe(false);
  });

  it.each([
    ['too few fields', '* * * *'],
    ['seven fields', '* * * * * * *'],
    ['an out-of-range value', '61 * * * * *'],
    ['words', 'every minute'],
    ['a zero TimeSpan', '00:00:00'],
    ['a TimeSpan with 60 minutes', '00:60:00'],
    ['a date that never comes', '0 0 0 30 2 *'],
  ])('fails start-up on %s', (_case, expression) => {
    expect(() => resolveSchedule(expression, 'UTC')).toThrow(HostStartupError);
  });
});
