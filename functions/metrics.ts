import { performance } from 'node:perf_hooks';
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
  type PostInvocationContext,
  type PreInvocationContext,
} from '@azure/functions';
import { requireKey } from '../shared/auth';
import { CounterError } from '../shared/errors';
import { errorResponse } from '../shared/http-response';
import {
  collectAtScrape,
  exposition,
  recordRequest,
  registry,
  shareWithSiblingProcesses,
  turnMetricsOff,
  writeLastSnapshot,
} from '../shared/metrics';
import { getConfig, getCounters, getWatchHub } from '../shared/services';

/**
 * This replica's metrics in Prometheus' text format: the sum over its app processes
 * (FUNCTIONS_WORKER_PROCESS_COUNT). Each replica answers for itself, so a scraper must reach
 * every one (pod annotations, a PodMonitor), not one behind a load balancer.
 */
export async function metrics(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const { metrics: on, metricsKey } = getConfig();
    if (!on) throw new CounterError('notFound', 'metrics are turned off (COUNTER_METRICS=false)');
    requireKey(request, 'reading metrics', metricsKey);
    return {
      status: 200,
      headers: { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' },
      body: await exposition(),
    };
  } catch (error) {
    return errorResponse(error, context);
  }
}

const STARTED = 'rustyCounterMetricsStarted';

function requestStarted(context: PreInvocationContext): void {
  context.hookData[STARTED] = performance.now();
}

/**
 * Every HTTP answer, counted once here rather than in each handler. The hooks run in the
 * library itself (`app.hook`), so Core Tools, Azure and the offline host all call them.
 */
function requestAnswered(context: PostInvocationContext): void {
  const invocation = context.invocationContext;
  const started = context.hookData[STARTED];
  if (invocation.options.trigger.type !== 'httpTrigger' || typeof started !== 'number') return;
  const request = context.inputs[0] as HttpRequest;
  // A handler that throws is answered 500 by the library; ours answer errors themselves.
  const status = hasError(context.error)
    ? 500
    : ((context.result as { status?: number } | undefined)?.status ?? 200);
  recordRequest(
    invocation.functionName,
    request.method,
    status,
    (performance.now() - started) / 1000,
  );
}

const hasError = (error: unknown) => error !== null && error !== undefined;

if (getConfig().metrics) {
  collectAtScrape({
    watchers: () => getWatchHub().size,
    namedCounters: () => getCounters().countNamed(),
  });
  app.hook.preInvocation(requestStarted);
  app.hook.postInvocation(requestAnswered);
  if (getConfig().workerProcesses > 1) {
    shareWithSiblingProcesses((message) => console.warn(message));
    app.hook.appTerminate(writeLastSnapshot);
  }
} else {
  turnMetricsOff();
}

// Open like /health unless COUNTER_METRICS_KEY is set: scrapers usually run inside the
// cluster, and a key is one more secret for each of them to hold.
app.http('metrics', {
  route: 'metrics',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: metrics,
});
