import { performance } from 'node:perf_hooks';
import type { AppRegistry } from '../app/app-registry';
import type { ProgrammingModel } from '../core/core-types';
import { describeError } from '../utils/describe-error';
import type { InFlightTracker } from '../utils/in-flight-tracker';
import { invokeFunction } from '../invocation/invoke-function';
import type { Logger } from '../utils/logger';
import { toRpcTimerInfo, type TimerInfo } from '../converters/to-rpc-timer-info';
import type { TimerFunction } from './to-timer-function';

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
    try {
      const inputData = [{ name: timer.triggerName, data: toRpcTimerInfo(info) }];
      await invokeFunction(registry, programmingModel, timer.fn, inputData, logger);
    } catch (err) {
      outcome = 'failed';
      logger.log('error', name, `failed: ${describeError(err)}`);
    } finally {
      done();
    }
    const pastDue = info.isPastDue ? ' (past due)' : '';
    const ms = (performance.now() - started).toFixed(1);
    logger.log('information', name, `timer${pastDue} -> ${outcome} in ${ms} ms`);
  };
}
