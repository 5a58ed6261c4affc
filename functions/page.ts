import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { CounterError } from '../shared/errors';
import { errorResponse } from '../shared/http-response';
import { loadPage, type Page } from '../shared/page';

let page: Page | undefined;

/**
 * `GET /`: the page that shows a counter live. Open to everyone: it holds no value, and
 * asks for a key only when the API it calls needs one.
 */
export async function showPage(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    // See the route below: only the root itself is the page.
    if (request.params.page) {
      throw new CounterError('notFound', `nothing is served at /${request.params.page}`);
    }
    page ??= loadPage();
    return {
      status: 200,
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': page.contentSecurityPolicy,
        'X-Content-Type-Options': 'nosniff',
      },
      body: page.html,
    };
  } catch (error) {
    return errorResponse(error, context);
  }
}

app.http('page', {
  // The Functions host routes an empty route to the function's name (/page), so the root is
  // reached through an optional parameter. Its constraint keeps every ordinary path (GET
  // /increment, /nothing-here) out of this function, for the catch-all in not-found.ts to
  // answer; only a GUID-shaped segment comes here, and gets a 404.
  route: '{page:guid?}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: showPage,
});
