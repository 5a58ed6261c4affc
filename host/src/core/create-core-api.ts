import type { AppRegistry } from '../app/app-registry';
import type {
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  ProgrammingModel,
  RpcLogCategory,
  RpcLogLevel,
} from './core-types';
import { Disposable } from '../utils/disposable';

/** The version this host reports as the worker's; the library only checks that `log` exists. */
const OFFLINE_WORKER_VERSION = '1.0.0-offline';
/** The Functions host version this stand-in behaves like. */
const OFFLINE_HOST_VERSION = '4.0.0-offline';

export interface CoreApi {
  readonly version: string;
  readonly hostVersion: string;
  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable;
  registerHook(hookName: string, callback: HookCallback): Disposable;
  setProgrammingModel(programmingModel: ProgrammingModel): void;
  getProgrammingModel(): ProgrammingModel | undefined;
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void;
  readonly Disposable: typeof Disposable;
}

export type SystemLog = (level: RpcLogLevel, category: RpcLogCategory, message: string) => void;

/** The object the app receives from `require('@azure/functions-core')`. */
export function createCoreApi(registry: AppRegistry, log: SystemLog): CoreApi {
  return {
    version: OFFLINE_WORKER_VERSION,
    hostVersion: OFFLINE_HOST_VERSION,
    registerFunction: (metadata, callback) => registry.registerFunction(metadata, callback),
    registerHook: (hookName, callback) => registry.registerHook(hookName, callback),
    setProgrammingModel: (programmingModel) => {
      registry.programmingModel = programmingModel;
    },
    getProgrammingModel: () => registry.programmingModel,
    log,
    Disposable,
  };
}
