import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { requireKey } from '../shared/auth';
import { errorResponse, valueResponse } from '../shared/http-response';
import { getConfig, getStore, warnTo } from '../shared/services';

export async function getValue(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const { readKey, writeKey } = getConfig();
    requireKey(request, 'reading the counter', readKey, writeKey);
    return valueResponse(await getStore().read(warnTo(context)));
  } catch (error) {
    return errorResponse(error, context);
  }
}

app.http('get', { route: 'get', methods: ['GET'], authLevel: 'anonymous', handler: getValue });
