import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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
  const esm = await isEsmApp(appRoot);
  for (const file of entryPoints) {
    try {
      // Entry points are the app's own modules, loaded like the worker's loadScriptFile does:
      // ES modules with import() (so top-level await works), CommonJS with require.
      if (esm || file.endsWith('.mjs')) await importModule(pathToFileURL(file).href);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      else require(file);
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

/** Whether the app's package.json says `"type": "module"`, making its .js files ES modules. */
async function isEsmApp(appRoot: string): Promise<boolean> {
  const json: unknown = JSON.parse(await readFile(path.join(appRoot, 'package.json'), 'utf8'));
  return (
    typeof json === 'object' && json !== null && (json as { type?: unknown }).type === 'module'
  );
}

/**
 * A real `import()`: TypeScript compiling to CommonJS would turn a written one into `require`,
 * which cannot wait for an ES module's top-level await.
 */
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;
