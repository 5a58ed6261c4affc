import { toRpcTimerInfo } from '../../src/converters/to-rpc-timer-info';

describe('toRpcTimerInfo', () => {
  it('sends the timer as JSON with the PascalCase keys of the Functions host', () => {
    const data = toRpcTimerInfo({
      isPastDue: false,
      adjustForDST: true,
      last: new Date('2025-01-01T00:00:00Z'),
      next: new Date('2025-01-01T00:01:00Z'),
      lastUpdated: new Date('2025-01-01T00:00:00.005Z'),
    });
    expect(JSON.parse(data.json ?? '')).toEqual({
      Schedule: { AdjustForDST: true },
      ScheduleStatus: {
        Last: '2025-01-01T00:00:00.000Z',
        Next: '2025-01-01T00:01:00.000Z',
        LastUpdated: '2025-01-01T00:00:00.005Z',
      },
      IsPastDue: false,
    });
  });
});
