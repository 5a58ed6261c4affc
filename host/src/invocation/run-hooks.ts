import type { AppRegistry } from '../app/app-registry';
import type { HookContext, HookName } from '../core/core-types';

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
