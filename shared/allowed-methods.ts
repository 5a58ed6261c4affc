import { openApiDocument } from './openapi';

// OPTIONS is documented on every path, and listed last in Allow (see allowedMethods).
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'head', 'patch', 'trace']);

/**
 * Every path of the OpenAPI document with the methods it answers: the one list of routes, so
 * the answer to a wrong method can never disagree with what the functions register. A
 * `{parameter}` stands for one non-empty segment; case and a trailing slash do not matter,
 * as for the Functions host's routes.
 */
const DOCUMENTED = Object.entries(openApiDocument.paths as Record<string, object>).map(
  ([template, pathItem]) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\/$/, '').replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i'),
    methods: Object.keys(pathItem)
      .filter((key) => HTTP_METHODS.has(key))
      .map((method) => method.toUpperCase()),
  }),
);

/** The OpenAPI path template that `path` (e.g. `/get/visits`) falls under, if any. */
export function documentedPathOf(path: string): string | undefined {
  return DOCUMENTED.find(({ pattern }) => pattern.test(path))?.template;
}

/**
 * The methods the service answers at `path`, sorted, then OPTIONS (answered on every path by
 * the catch-all function, `functions/not-found.ts`); empty when nothing is served there.
 */
export function allowedMethods(path: string): string[] {
  const methods = new Set(
    DOCUMENTED.filter(({ pattern }) => pattern.test(path)).flatMap(({ methods }) => methods),
  );
  if (methods.size === 0) return [];
  return [...[...methods].sort(), 'OPTIONS'];
}
