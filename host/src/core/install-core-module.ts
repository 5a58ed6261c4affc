import Module from 'node:module';
import type { CoreApi } from './create-core-api';

const CORE_MODULE_NAME = '@azure/functions-core';

/**
 * Makes `require('@azure/functions-core')` return `coreApi` in every module loaded from now
 * on, as the Node.js worker does: the module is built into the worker, not installable.
 * Returns a function that removes the hook again.
 */
export function installCoreModule(coreApi: CoreApi): () => void {
  const originalRequire = Module.prototype.require;
  Module.prototype.require = new Proxy(originalRequire, {
    apply(target, thisArg: NodeJS.Module, args: [string]): unknown {
      return args[0] === CORE_MODULE_NAME ? coreApi : Reflect.apply(target, thisArg, args);
    },
  });
  return () => {
    Module.prototype.require = originalRequire;
  };
}
