import path from 'node:path';
import type { AppRegistry } from './app-registry';
import type { ProgrammingModel } from '../core/core-types';
import { findEntryPoints } from './find-entry-points';
import { HostStartupError } from '../utils/host-startup-error';

export interface LoadedApp {
  programmingModel: ProgrammingModel;
  entryPoints: string[];
}

/**
 * Loads the app's entry points so their `app.http(...)`/`app.timer(...)` calls register
 * with `registry`. `@azure/functions-core` must already be installed.
 */
export async function loadApp(appRoot: string, registry: AppRegistry): Promise<LoadedApp> {
  const entryPoints = await findEntryPoints(appRoot);
  for (const file of entryPoints) {
    try {
      // Entry points are the app's own modules, loaded like the worker's loadScriptFile does;
      // Node 20 `require` also loads ES modules without top-level await.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(file);
    } catch (err) {
      const relative = path.relative(appRoot, file);
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      throw new HostStartupError(`loading ${relative} failed: ${detail}`, { cause: err });
    }
  }
  registry.closeRegistration();

  const programmingModel = registry.programmingModel;
  if (registry.functions.size === 0 || !programmingModel) {
    throw new HostStartupError(
      `no functions were registered by ${entryPoints.map((file) => path.relative(appRoot, file)).join(', ')}; register them with app.http(...)/app.timer(...) from "@azure/functions"`,
    );
  }
  return { programmingModel, entryPoints };
}
