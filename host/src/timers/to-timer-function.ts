import type { RegisteredFunction } from '../app/app-registry';
import type { TriggerBinding } from '../app/find-trigger-binding';
import { HostStartupError } from '../utils/host-startup-error';
import type { Environment } from '../settings/load-settings';
import { resolveSchedule, type Schedule } from './resolve-schedule';
import { substituteAppSettings } from '../settings/substitute-app-settings';

export interface TimerFunction {
  fn: RegisteredFunction;
  /** The name of the function's timerTrigger binding, under which the timer info is passed. */
  triggerName: string;
  schedule: Schedule;
  runOnStartup: boolean;
}

/** A timer-triggered function with its schedule resolved (`%AppSetting%` references included). */
export function toTimerFunction(
  fn: RegisteredFunction,
  trigger: TriggerBinding,
  env: Environment,
  timezone: string | undefined,
): TimerFunction {
  const usedFor = `the schedule of timer function "${fn.metadata.name}"`;
  const expression = trigger.binding.schedule;
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new HostStartupError(`${usedFor} is missing`);
  }
  let schedule: Schedule;
  try {
    schedule = resolveSchedule(substituteAppSettings(expression, env, usedFor), timezone);
  } catch (err) {
    if (!(err instanceof HostStartupError) || err.message.startsWith(usedFor)) throw err;
    throw new HostStartupError(`${usedFor}: ${err.message}`);
  }
  return {
    fn,
    triggerName: trigger.name,
    schedule,
    runOnStartup: trigger.binding.runOnStartup === true,
  };
}
