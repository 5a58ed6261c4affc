import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import { requireKey } from '../shared/auth';
import { errorResponse, valueResponse } from '../shared/http-response';
import { getConfig, getStore, warnTo } from '../shared/services';
import { readStep } from '../shared/step';

export async function increment(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    requireKey(request, 'changing the counter', getConfig().writeKey);
    const step = await readStep(request);
    return valueResponse(await getStore().add(step, warnTo(context)));
  } catch (error) {
    return errorResponse(error, context);
  }
}

app.http('increment', {
  route: 'increment',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: increment,
});
