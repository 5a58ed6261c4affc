import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { requireKey } from '../shared/auth';
import { counterListResponse, errorResponse } from '../shared/http-response';
import { parseListQuery } from '../shared/list-query';
import { getConfig, getCounters } from '../shared/services';

/** `GET /counters`: one page of the named counters, by name; the read key applies as to /get. */
export async function listCounters(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const { readKey, writeKey } = getConfig();
    requireKey(request, 'listing counters', readKey, writeKey);
    const { limit, after, prefix } = parseListQuery(request.query);
    // One more than the page tells whether another page follows, without a second listing.
    const found = await getCounters().list({ prefix, after, limit: limit + 1 });
    const page = found.slice(0, limit);
    const next = found.length > limit ? page[page.length - 1].name : null;
    return counterListResponse(page, next);
  } catch (error) {
    return errorResponse(error, context);
  }
}

app.http('listCounters', {
  route: 'counters',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: listCounters,
});
