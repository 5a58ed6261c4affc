import { performance } from 'node:perf_hooks';
import type { AppRegistry } from '../app/app-registry';
import type { ProgrammingModel } from '../core/core-types';
import { describeError } from '../utils/describe-error';
import type { InFlightTracker } from '../utils/in-flight-tracker';
import { invokeFunction } from '../invocation/invoke-function';
import type { Logger } from '../utils/logger';
import { toRpcTimerInfo, type TimerInfo } from '../converters/to-rpc-timer-info';
import type { TimerFunction } from './to-timer-function';
import { toRetryPolicy } from './retry-policy';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TimerInvokerOptions {
  registry: AppRegistry;
  programmingModel: ProgrammingModel;
  logger: Logger;
  inFlight: InFlightTracker;
}

/**
 * Runs a timer function once through the programming model, counted as work in flight, and
 * logs one line with its outcome and duration. It never rejects: a failed run is logged.
 */
export function createTimerInvoker(
  options: TimerInvokerOptions,
): (timer: TimerFunction, info: TimerInfo) => Promise<void> {
  const { registry, programmingModel, logger, inFlight } = options;
  return async (timer, info) => {
    const name = timer.fn.metadata.name;
    const done = inFlight.begin();
    const started = performance.now();
    let outcome = 'succeeded';
    const retry = toRetryPolicy(timer.fn.metadata.retryOptions);
    const inputData = [{ name: timer.triggerName, data: toRpcTimerInfo(info) }];
    try {
      // The first attempt and, under the function's retry policy, each retry after a failure.
      for (let retryCount = 0, lastError: unknown; ; retryCount++) {
        try {
          const retryContext =
            retry && retryCount > 0
              ? {
                  retryCount,
                  maxRetryCount: retry.maxRetryCount,
                  exception: { message: describeError(lastError) },
                }
              : undefined;
          await invokeFunction(registry, programmingModel, timer.fn, inputData, logger, {
            retryContext,
            reason: `Timer fired at ${new Date().toISOString()}`,
          });
          outcome = retryCount > 0 ? `succeeded on retry ${retryCount}` : 'succeeded';
          break;
        } catch (err) {
          // invokeFunction logged the failure, with the error.
          lastError = err;
          if (!retry || retryCount >= retry.maxRetryCount) {
            outcome = retryCount > 0 ? `failed after ${retryCount} retries` : 'failed';
            break;
          }
          await sleep(retry.delayBeforeRetry(retryCount + 1));
        }
      }
    } finally {
      done();
    }
    const pastDue = info.isPastDue ? ' (past due)' : '';
    const ms = (performance.now() - started).toFixed(1);
    logger.log('information', name, `timer${pastDue} -> ${outcome} in ${ms} ms`);
  };
}
