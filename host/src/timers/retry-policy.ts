/**
 * A function's `retry` option as the library registers it (`retryOptions`: strategy, counts
 * and intervals as `{ seconds }` durations), and the wait before each retry, as the Functions
 * host applies it: a fixed delay, or a delay doubling from the minimum up to the maximum.
 */
export interface RetryPolicy {
  maxRetryCount: number;
  delayBeforeRetry(retryCount: number): number;
}

/** Azure's `-1` (retry forever) is capped: a timer retrying forever would never run again. */
const MAX_RETRIES = 100;

export function toRetryPolicy(retryOptions: unknown): RetryPolicy | undefined {
  if (typeof retryOptions !== 'object' || retryOptions === null) return undefined;
  const options = retryOptions as Record<string, unknown>;
  const strategy = String(options.retryStrategy ?? options.strategy ?? '').toLowerCase();
  const count = Number(options.maxRetryCount);
  if (!Number.isInteger(count) || count === 0) return undefined;
  const maxRetryCount = count < 0 ? MAX_RETRIES : Math.min(count, MAX_RETRIES);
  if (strategy === 'fixeddelay') {
    const delay = durationMs(options.delayInterval);
    return { maxRetryCount, delayBeforeRetry: () => delay };
  }
  if (strategy === 'exponentialbackoff') {
    const minimum = durationMs(options.minimumInterval);
    const maximum = durationMs(options.maximumInterval);
    return {
      maxRetryCount,
      delayBeforeRetry: (retryCount) => Math.min(minimum * 2 ** (retryCount - 1), maximum),
    };
  }
  return undefined;
}

function durationMs(duration: unknown): number {
  if (typeof duration !== 'object' || duration === null) return 0;
  const { seconds, nanos } = duration as { seconds?: unknown; nanos?: unknown };
  return (Number(seconds) || 0) * 1000 + Math.round((Number(nanos) || 0) / 1e6);
}
