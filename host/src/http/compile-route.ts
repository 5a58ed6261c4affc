import { HostStartupError } from '../utils/host-startup-error';

/** A route template compiled once at start-up, so matching a request costs one regex test. */
export interface CompiledRoute {
  /** The full template including the route prefix, e.g. `api/items/{id?}`. */
  readonly template: string;
  readonly paramNames: readonly string[];
  /** Lower sorts first: literal segments beat parameters, which beat optional and catch-all ones. */
  readonly precedence: readonly number[];
  readonly pattern: RegExp;
  /** Range checks a pattern cannot express, by parameter name (e.g. `{id:int}` is 32-bit). */
  readonly checks: ReadonlyMap<string, (value: string) => boolean>;
}

const PRECEDENCE_RANK = {
  literal: 0,
  constrained: 1,
  parameter: 2,
  optional: 3,
  catchAll: 4,
} as const;

// Route constraints of ASP.NET Core that translate to a plain pattern. `int` and `long` parse
// as .NET's int.TryParse/long.TryParse do: an optional sign, digits, and a range (below).
const CONSTRAINT_PATTERNS: Record<string, string> = {
  int: '[+-]?\\d+',
  long: '[+-]?\\d+',
  bool: '(?:true|false)',
  alpha: '[A-Za-z]+',
  guid: '[0-9A-Fa-f]{8}-?(?:[0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}',
  double: '-?\\d+(?:\\.\\d+)?',
  decimal: '-?\\d+(?:\\.\\d+)?',
};

const inRange = (min: bigint, max: bigint) => (value: string) => {
  const number = BigInt(value);
  return number >= min && number <= max;
};
const CONSTRAINT_CHECKS: Record<string, (value: string) => boolean> = {
  int: inRange(-(2n ** 31n), 2n ** 31n - 1n),
  long: inRange(-(2n ** 63n), 2n ** 63n - 1n),
};

const PARAMETER_SYNTAX = /^\{(\*{0,2})([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?(\?)?\}$/;

/**
 * Compiles `routePrefix` + `route` with ASP.NET Core's template forms `{name}`, `{name?}`,
 * `{name:int}` (and the other simple constraints above) and a trailing catch-all `{*rest}`.
 * Literal segments match case-insensitively and a trailing slash is ignored, as in the
 * Functions host.
 */
export function compileRoute(routePrefix: string, route: string): CompiledRoute {
  const template = [routePrefix, route]
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter((part) => part !== '')
    .join('/');
  const paramNames: string[] = [];
  const precedence: number[] = [];
  const checks = new Map<string, (value: string) => boolean>();
  let source = '^';
  let optionalSeen = false;

  for (const segment of template === '' ? [] : template.split('/')) {
    const fail = (why: string) =>
      new HostStartupError(`route "${template}": segment "${segment}" ${why}`);
    if (segment === '') throw fail('is empty');

    if (!segment.includes('{') && !segment.includes('}')) {
      if (optionalSeen)
        throw fail('follows an optional parameter; optional parameters must come last');
      source += `/${escapeRegex(segment)}`;
      precedence.push(PRECEDENCE_RANK.literal);
      continue;
    }

    const parsed = PARAMETER_SYNTAX.exec(segment);
    if (!parsed) {
      throw fail('is not supported; use {name}, {name?}, {name:int} or a trailing {*name}');
    }
    const [, stars, name, constraint, optionalMark] = parsed;
    if (paramNames.some((existing) => existing.toLowerCase() === name.toLowerCase())) {
      throw fail(`repeats the parameter "${name}"`);
    }
    paramNames.push(name);

    if (stars) {
      source += '(?:/(.*))?';
      precedence.push(PRECEDENCE_RANK.catchAll);
      optionalSeen = true;
      continue;
    }
    let valuePattern = '[^/]+';
    if (constraint !== undefined) {
      const known = CONSTRAINT_PATTERNS[constraint.toLowerCase()];
      if (!known)
        throw fail(`uses the constraint "${constraint}", which the offline host does not support`);
      valuePattern = known;
      const check = CONSTRAINT_CHECKS[constraint.toLowerCase()];
      if (check) checks.set(name, check);
    }
    if (optionalMark) {
      source += `(?:/(${valuePattern}))?`;
      precedence.push(PRECEDENCE_RANK.optional);
      optionalSeen = true;
    } else {
      if (optionalSeen)
        throw fail('follows an optional parameter; optional parameters must come last');
      source += `/(${valuePattern})`;
      precedence.push(
        constraint === undefined ? PRECEDENCE_RANK.parameter : PRECEDENCE_RANK.constrained,
      );
    }
  }

  const catchAllLast = precedence.indexOf(PRECEDENCE_RANK.catchAll);
  if (catchAllLast >= 0 && catchAllLast !== precedence.length - 1) {
    throw new HostStartupError(
      `route "${template}": a catch-all parameter must be the last segment`,
    );
  }
  return {
    template,
    paramNames,
    precedence,
    pattern: new RegExp(`${source}/?$`, 'is'),
    checks,
  };
}

/**
 * The route's parameters for `path`, or undefined if it does not match. `path` is the URL path
 * as routing sees it (see `toRoutingPath`): already decoded, so values are taken as they are.
 */
export function matchRoute(route: CompiledRoute, path: string): Record<string, string> | undefined {
  const match = route.pattern.exec(path);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const [index, name] of route.paramNames.entries()) {
    const value = match[index + 1];
    if (value === undefined) continue;
    if (route.checks.get(name)?.(value) === false) return undefined;
    params[name] = value;
  }
  return params;
}

/**
 * The URL path as ASP.NET Core routes it: percent-escapes decoded, except `%2F`, which stays
 * as written so that an encoded slash never splits a segment (a catch-all `{*rest}` receives
 * `a%2Fb/c` for `/a%2Fb/c`). A run that is not valid UTF-8 percent-encoding stays as written.
 */
export function toRoutingPath(urlPath: string): string {
  return urlPath
    .split(/(%2F)/i)
    .map((part, index) => (index % 2 === 1 ? part : decodeEscapes(part)))
    .join('');
}

/** Orders routes so the most specific one is tried first. */
export function compareRoutePrecedence(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.min(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i++) {
    const difference = a.precedence[i] - b.precedence[i];
    if (difference !== 0) return difference;
  }
  return a.precedence.length - b.precedence.length;
}

/** Decodes each run of percent-escapes on its own, so one bad run leaves the others decoded. */
function decodeEscapes(raw: string): string {
  return raw.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
