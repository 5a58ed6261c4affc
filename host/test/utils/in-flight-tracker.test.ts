import { InFlightTracker } from '../../src/utils/in-flight-tracker';

describe('InFlightTracker', () => {
  it('is idle at once when nothing is in flight', async () => {
    await expect(new InFlightTracker().whenIdle(10)).resolves.toBe(true);
  });

  it('resolves true when the last piece of work ends', async () => {
    const tracker = new InFlightTracker();
    const endA = tracker.begin();
    const endB = tracker.begin();
    const idle = tracker.whenIdle(5000);
    endA();
    endA(); // ending twice counts once
    expect(tracker.count).toBe(1);
    endB();
    await expect(idle).resolves.toBe(true);
  });

  it('resolves false when work is still running after the timeout', async () => {
    const tracker = new InFlightTracker();
    tracker.begin();
    await expect(tracker.whenIdle(20)).resolves.toBe(false);
    expect(tracker.count).toBe(1);
  });
});
