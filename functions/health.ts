import { app, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { CounterError } from '../shared/errors';
import { errorResponse, jsonResponse } from '../shared/http-response';
import { getCounters, warnTo } from '../shared/services';

/**
 * Ready when the data directory takes writes and the value can be read (healing it if
 * needed). The value itself is not shown, so probes need no read key.
 */
export async function health(
  _request: unknown,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const store = getCounters().defaultCounter;
  try {
    await store.probeWritable();
    await store.read(warnTo(context));
    return jsonResponse(200, {
      status: 'ok',
      checks: { dataDirectory: 'writable', value: 'valid' },
    });
  } catch (error) {
    if (!(error instanceof CounterError)) return errorResponse(error, context);
    context.warn(`health check failed: ${error.message}`);
    return jsonResponse(503, { status: 'unavailable', error: error.message });
  }
}

// HEAD too: uptime monitors often probe with it, and the Functions host sends HEAD only to
// a function that lists it.
app.http('health', {
  route: 'health',
  methods: ['GET', 'HEAD'],
  authLevel: 'anonymous',
  handler: health,
});
