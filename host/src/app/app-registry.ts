import type {
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  HookData,
  HookName,
  ProgrammingModel,
} from '../core/core-types';
import { Disposable } from '../utils/disposable';

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

const HOOK_NAMES: readonly HookName[] = [
  'preInvocation',
  'postInvocation',
  'appStart',
  'appTerminate',
  'log',
];

/** What the app registered through `@azure/functions-core`: functions, hooks, programming model. */
export class AppRegistry {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly appHookData: HookData = {};
  programmingModel: ProgrammingModel | undefined;
  private readonly hooksByName = new Map<HookName, HookCallback[]>(
    HOOK_NAMES.map((name) => [name, []]),
  );
  // Like the worker, functions may only be registered while the app's modules load.
  private acceptsFunctions = true;

  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (!this.acceptsFunctions) {
      throw new Error('A function can only be registered during app startup.');
    }
    const name = metadata.name;
    if (this.functions.has(name)) {
      throw new Error(`A function with the name "${name}" has already been registered.`);
    }
    this.functions.set(name, { metadata, callback });
    return new Disposable(() => {
      if (this.acceptsFunctions) this.functions.delete(name);
    });
  }

  registerHook(hookName: string, callback: HookCallback): Disposable {
    const callbacks = this.hooksByName.get(hookName as HookName);
    if (!callbacks) {
      throw new RangeError(`"${hookName}" is not a valid hook name.`);
    }
    callbacks.push(callback);
    return new Disposable(() => {
      const index = callbacks.indexOf(callback);
      if (index >= 0) callbacks.splice(index, 1);
    });
  }

  hooks(hookName: HookName): readonly HookCallback[] {
    return this.hooksByName.get(hookName) ?? [];
  }

  /** Called once the app's modules have loaded. */
  closeRegistration(): void {
    this.acceptsFunctions = false;
  }
}
