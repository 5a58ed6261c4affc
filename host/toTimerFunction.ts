import type { RegisteredFunction } from './appRegistry';
import type { TriggerBinding } from './findTriggerBinding';
import { HostStartupError } from './HostStartupError';
import type { Environment } from './loadSettings';
import { resolveSchedule, type Schedule } from './resolveSchedule';
import { substituteAppSettings } from './substituteAppSettings';

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
