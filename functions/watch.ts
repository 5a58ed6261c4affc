import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { requireKey } from '../shared/auth';
import { parseCounterName } from '../shared/counter-name';
import { eventStream, WATCH_TIMING } from '../shared/event-stream';
import { errorResponse, eventStreamResponse } from '../shared/http-response';
import { getConfig, getWatchHub } from '../shared/services';

/**
 * `GET /watch/{name?}`: the counter's value now, then at every change, as Server-Sent Events.
 * The body is a stream, so the app runs with the library's HTTP streams on.
 */
export async function watch(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const { readKey, writeKey } = getConfig();
    requireKey(request, 'watching a counter', readKey, writeKey);
    const name = parseCounterName(request.params.name);
    const watcher = await getWatchHub().watch(name);
    return eventStreamResponse(eventStream(watcher, WATCH_TIMING));
  } catch (error) {
    return errorResponse(error, context);
  }
}

// A stream that lasts needs the library's HTTP streams, a setting of the whole app (on Azure:
// Functions host 4.28 or later); every other function answers as before.
app.setup({ enableHttpStream: true });

app.http('watch', {
  route: 'watch/{name?}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: watch,
});
