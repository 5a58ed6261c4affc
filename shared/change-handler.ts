import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { requireKey } from './auth';
import { parseCounterName } from './counter-name';
import { errorResponse, valueResponse } from './http-response';
import { getConfig, getCounters, warnTo } from './services';
import { readStep } from './step';

export type ChangeHandler = (
  request: HttpRequest,
  context: InvocationContext,
) => Promise<HttpResponseInit>;

/**
 * The handler of `POST /increment/{name?}` (direction 1) or `POST /decrement/{name?}` (-1):
 * the two differ only in the sign of the step.
 */
export function changeHandler(direction: 1n | -1n): ChangeHandler {
  return async (request, context) => {
    try {
      requireKey(request, 'changing a counter', getConfig().writeKey);
      const name = parseCounterName(request.params.name);
      const step = await readStep(request);
      return valueResponse(await getCounters().add(name, direction * step, warnTo(context)));
    } catch (error) {
      return errorResponse(error, context);
    }
  };
}
