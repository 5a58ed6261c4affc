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
    requireAdminKey(request, getConfig().adminKey, {
      purpose: 'setting a counter',
      route: 'PUT /set',
    });
    const name = parseCounterName(request.params.name);
    const value = await readSetValue(request);
    const result = await getCounters().set(name, value, warnTo(context));
    // Setting can erase a count, so each one leaves a line in the log (never the key).
    context.log(`set ${name === undefined ? 'the default counter' : `"${name}"`} to ${value}`);
    return valueResponse(result);
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
