import type { InvocationContext } from '@azure/functions';
import { loadConfig, type CounterConfig } from './config';
import { Counters } from './counters';
import type { Warn } from './store';

let config: CounterConfig | undefined;
let counters: Counters | undefined;

/** Settings, read once per process (they come from the environment, fixed at start). */
export const getConfig = (): CounterConfig => (config ??= loadConfig());

/** The counters of this process, so all invocations share each counter's group commit. */
export const getCounters = (): Counters =>
  (counters ??= new Counters({
    dataDir: getConfig().dataDir,
    maxNamed: getConfig().maxNamed,
    groupCommit: getConfig().groupCommit,
    lockTimeoutMs: getConfig().lockTimeoutMs,
  }));

/** Healing warnings go to the log of the invocation that triggered them. */
export const warnTo =
  (context: InvocationContext): Warn =>
  (message) =>
    context.warn(message);

/** For tests that change the environment between cases. */
export function resetServices(): void {
  config = undefined;
  counters = undefined;
}
