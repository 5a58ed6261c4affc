import { compileRoute } from './compile-route';
import type { FunctionMetadata } from '../core/core-types';
import type { TriggerBinding } from '../app/find-trigger-binding';
import { HostStartupError } from '../utils/host-startup-error';
import type { Environment } from '../settings/load-settings';
import type { HttpRoute } from './route-table';
import { substituteAppSettings } from '../settings/substitute-app-settings';

/**
 * The route of an HTTP-triggered function: its `route` option (default: the function's
 * name) under the host's route prefix, and its `methods`. As in the Functions host, a
 * binding without `methods` takes every method, and an empty list takes none (the host turns
 * any list, even an empty one, into ASP.NET Core's HttpMethodRouteConstraint).
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
    methods: methods ? new Set(methods.map((method) => method.toUpperCase())) : 'any',
    route: compileRoute(routePrefix, template),
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
