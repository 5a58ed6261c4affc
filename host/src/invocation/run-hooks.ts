import type { AppRegistry } from '../app/app-registry';
import type { HookContext, HookData, HookName } from '../core/core-types';

/** Runs the app's hooks of one kind in registration order; a hook that throws stops the rest. */
export async function runHooks(
  registry: AppRegistry,
  hookName: HookName,
  context: HookContext,
): Promise<void> {
  for (const hook of registry.hooks(hookName)) {
    await hook(context);
  }
}

/**
 * The context one hook call receives: `hookData`, shared by the hooks of one scope (one
 * invocation, or the app's start and end), and `appHookData`, shared by every hook of the app,
 * as read-only properties (hooks fill them in, never replace them), plus the kind's own
 * `fields`. Getters among `fields` stay getters.
 */
export function hookContext<T extends object>(
  registry: AppRegistry,
  hookData: HookData,
  fields: T,
): HookContext & T {
  const context: HookContext = {
    get hookData() {
      return hookData;
    },
    get appHookData() {
      return registry.appHookData;
    },
  };
  return Object.defineProperties(context, Object.getOwnPropertyDescriptors(fields)) as HookContext &
    T;
}
