import { compileRoute } from './compileRoute';
import type { FunctionMetadata } from './coreTypes';
import type { TriggerBinding } from './findTriggerBinding';
import { HostStartupError } from './HostStartupError';
import type { Environment } from './loadSettings';
import type { HttpRoute } from './routeTable';
import { substituteAppSettings } from './substituteAppSettings';

/**
 * The route of an HTTP-triggered function: its `route` option (default: the function's
 * name) under the host's route prefix, and its `methods` (none listed: every method).
 */
export function toHttpRoute(
  metadata: FunctionMetadata,
  trigger: TriggerBinding,
  routePrefix: string,
  env: Environment,
): HttpRoute {
  const { route, methods } = trigger.binding;
  if (route !== undefined && route !== null && typeof route !== 'string') {
    throw new HostStartupError(`function "${metadata.name}": route must be a string`);
  }
  if (methods !== undefined && methods !== null && !isStringArray(methods)) {
    throw new HostStartupError(
      `function "${metadata.name}": methods must be a list of HTTP methods`,
    );
  }
  const template = substituteAppSettings(
    route ?? metadata.name,
    env,
    `the route of function "${metadata.name}"`,
  );
  return {
    functionName: metadata.name,
    methods: new Set((methods ?? []).map((method) => method.toUpperCase())),
    route: compileRoute(routePrefix, template),
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
