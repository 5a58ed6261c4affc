import { toRetryPolicy } from '../../src/timers/retry-policy';

describe('toRetryPolicy', () => {
  it('waits the same delay before every retry of a fixedDelay policy', () => {
    const policy = toRetryPolicy({
      retryStrategy: 'fixedDelay',
      maxRetryCount: 5,
      delayInterval: { seconds: 1 },
    });
    expect(policy?.maxRetryCount).toBe(5);
    expect([1, 2, 5].map((n) => policy?.delayBeforeRetry(n))).toEqual([1000, 1000, 1000]);
  });

  it('doubles the delay of an exponentialBackoff policy from the minimum up to the maximum', () => {
    const policy = toRetryPolicy({
      retryStrategy: 'exponentialBackoff',
      maxRetryCount: 6,
      minimumInterval: { seconds: 2 },
      maximumInterval: { seconds: 10 },
    });
    expect([1, 2, 3, 4].map((n) => policy?.delayBeforeRetry(n))).toEqual([2000, 4000, 8000, 10000]);
  });

  it('has no policy without retries or with an unknown strategy, and caps retrying forever', () => {
    expect(toRetryPolicy(undefined)).toBeUndefined();
    expect(toRetryPolicy({ retryStrategy: 'fixedDelay', maxRetryCount: 0 })).toBeUndefined();
    expect(toRetryPolicy({ retryStrategy: 'sometimes', maxRetryCount: 3 })).toBeUndefined();
    expect(toRetryPolicy({ retryStrategy: 'fixedDelay', maxRetryCount: -1 })?.maxRetryCount).toBe(
      100,
    );
  });
});
