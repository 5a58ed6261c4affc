import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { requireAdminKey } from '../shared/auth';
import { parseCounterName } from '../shared/counter-name';
import { counterEntryResponse, errorResponse } from '../shared/http-response';
import { getConfig, getCounters, warnTo } from '../shared/services';

/**
 * `DELETE /counters/{name}`: removes a named counter with its backup, in order with the
 * changes around it, and answers the value it held. The default counter has no name, so it
 * never reaches this function (the catch-all answers `DELETE /counters` with 405).
 */
export async function deleteCounter(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    requireAdminKey(request, getConfig().adminKey, {
      purpose: 'deleting a counter',
      route: 'DELETE /counters/{name}',
    });
    // The route's parameter is required, so a name is always there.
    const name = parseCounterName(request.params.name) as string;
    const value = await getCounters().delete(name, warnTo(context));
    // A delete erases a count, so each one leaves a line in the log (never the key).
    context.log(`deleted "${name}", which held ${value}`);
    return counterEntryResponse({ name, value });
  } catch (error) {
    return errorResponse(error, context);
  }
}

app.http('deleteCounter', {
  route: 'counters/{name}',
  methods: ['DELETE'],
  authLevel: 'anonymous',
  handler: deleteCounter,
});
