import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { requireKey } from '../shared/auth';
import { parseCounterName } from '../shared/counter-name';
import { errorResponse, valueResponse } from '../shared/http-response';
import { getConfig, getCounters, warnTo } from '../shared/services';

export async function getValue(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const { readKey, writeKey } = getConfig();
    requireKey(request, 'reading a counter', readKey, writeKey);
    const name = parseCounterName(request.params.name);
    return valueResponse(await getCounters().read(name, warnTo(context)));
  } catch (error) {
    return errorResponse(error, context);
  }
}

app.http('get', {
  route: 'get/{name?}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: getValue,
});
