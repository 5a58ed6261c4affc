import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { requireAdminKey } from '../shared/auth';
import { parseCounterName } from '../shared/counter-name';
import { errorResponse, valueResponse } from '../shared/http-response';
import { getConfig, getCounters, warnTo } from '../shared/services';
import { readSetValue } from '../shared/step';

export async function setValue(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    requireAdminKey(request, getConfig().adminKey);
    const name = parseCounterName(request.params.name);
    const value = await readSetValue(request);
    return valueResponse(await getCounters().set(name, value, warnTo(context)));
  } catch (error) {
    return errorResponse(error, context);
  }
}

app.http('set', {
  route: 'set/{name?}',
  methods: ['PUT'],
  authLevel: 'anonymous',
  handler: setValue,
});
