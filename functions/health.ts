import { app, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { CounterError } from '../shared/errors';
import { errorResponse, jsonResponse } from '../shared/http-response';
import { getCounters, warnTo } from '../shared/services';

/**
 * Ready when storage takes writes and the value can be read (healing it if needed). The
 * value itself is not shown, so probes need no read key.
 */
export async function health(
  _request: unknown,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const counters = getCounters();
  try {
    await counters.probe();
    await counters.read(undefined, warnTo(context));
    const storage =
      counters.engine.kind === 'files' ? { dataDirectory: 'writable' } : { database: 'reachable' };
    return jsonResponse(200, {
      status: 'ok',
      engine: counters.engine.kind,
      checks: { ...storage, value: 'valid' },
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
