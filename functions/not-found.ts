import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { allowedMethods, documentedPathOf } from '../shared/allowed-methods';
import { CounterError } from '../shared/errors';
import { errorResponse } from '../shared/http-response';

// Long enough to recognise the path, short enough that an absurd URL is not echoed back whole.
const PATH_SHOWN = 100;

// What a user who sends these most likely wants instead.
const HINTS: Record<string, string> = {
  'DELETE /counters':
    '. The default counter has no name and cannot be deleted: reset it with PUT /set (e.g. ?value=0); delete a named one with DELETE /counters/{name}',
};

/**
 * Every request no other function takes. The Functions host answers those with an empty 404;
 * this function makes them JSON like every other error of the API: 404 for a path where
 * nothing is served, 405 with `Allow` for a method a known path does not take, and 204 with
 * `Allow` for OPTIONS there.
 */
export async function notFound(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  // The route parameter is the path as the host routed it (decoded), the same on every host.
  const path = `/${request.params.path ?? ''}`;
  const shown = path.length > PATH_SHOWN ? `${path.slice(0, PATH_SHOWN)}…` : path;
  const allowed = allowedMethods(path);
  if (allowed.length === 0) {
    return errorResponse(new CounterError('notFound', `nothing is served at ${shown}`), context);
  }
  const allow = allowed.join(', ');
  if (request.method === 'OPTIONS') return { status: 204, headers: { Allow: allow } };
  const hint = HINTS[`${request.method} ${documentedPathOf(path)}`] ?? '';
  const response = errorResponse(
    new CounterError(
      'methodNotAllowed',
      `${shown} does not accept ${request.method}; it accepts ${allow}${hint}`,
    ),
    context,
  );
  return { ...response, headers: { ...response.headers, Allow: allow } };
}

app.http('notFound', {
  // Every route registered elsewhere is more specific than a catch-all, so it only gets
  // what no other function takes. The methods are listed because the library would otherwise
  // register GET and POST only, and the Functions host routes an empty list to nothing.
  // Other methods get the host's own empty 404: TRACE, which the library's HTTP streams
  // cannot carry (undici refuses it), and WebDAV's PROPFIND and the like.
  route: '{*path}',
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: notFound,
});
