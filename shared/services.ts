import type { InvocationContext } from '@azure/functions';
import { loadConfig, type CounterConfig } from './config';
import { CounterStore, type Warn } from './store';

let config: CounterConfig | undefined;
let store: CounterStore | undefined;

/** Settings, read once per process (they come from the environment, fixed at start). */
export const getConfig = (): CounterConfig => (config ??= loadConfig());

/** The one store of this process, so all invocations share its group commit. */
export const getStore = (): CounterStore =>
  (store ??= new CounterStore({
    dataDir: getConfig().dataDir,
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
  store = undefined;
}
