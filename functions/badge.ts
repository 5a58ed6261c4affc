import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { requireKey } from '../shared/auth';
import { drawBadge, readBadgeOptions, wantsHit } from '../shared/badge';
import { parseCounterName } from '../shared/counter-name';
import { errorResponse, svgResponse } from '../shared/http-response';
import { getConfig, getCounters, warnTo } from '../shared/services';

/**
 * `GET /badge/{name?}`: the value as a shields-style SVG badge. With COUNTER_PUBLIC_HITS,
 * `?hit=1` counts a visit first and needs no key (an image in a README cannot send one).
 */
export async function badge(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const { readKey, writeKey, publicHits } = getConfig();
    const hit = wantsHit(request.query, publicHits);
    if (!hit) requireKey(request, 'reading a counter', readKey, writeKey);
    const name = parseCounterName(request.params.name);
    const options = readBadgeOptions(request.query, name ?? 'counter');
    const counters = getCounters();
    const value = hit
      ? await counters.add(name, 1n, warnTo(context))
      : await counters.read(name, warnTo(context));
    return svgResponse(drawBadge(value, options));
  } catch (error) {
    return errorResponse(error, context);
  }
}

app.http('badge', {
  route: 'badge/{name?}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: badge,
});
