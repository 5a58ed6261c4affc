import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describeError } from '../utils/describe-error';
import type { AppRegistry, RegisteredFunction } from '../app/app-registry';
import type {
  CoreInvocationContext,
  HookData,
  InvocationState,
  LogHookContext,
  PostInvocationContext,
  PreInvocationContext,
  ProgrammingModel,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
  RpcParameterBinding,
  RpcRetryContext,
  RpcTypedData,
} from '../core/core-types';
import type { Logger } from '../utils/logger';
import { guardInvocation } from './crash-guard';
import { hookContext, runHooks } from './run-hooks';

export interface InvocationRequest {
  /** Set by the caller when something else must be paired with the invocation (HTTP streams). */
  invocationId?: string;
  /** Why the function runs, for the `Executing` line (default: called over HTTP). */
  reason?: string;
  /** What the Functions host sends next to the inputs, e.g. an HTTP request's headers and route parameters. */
  triggerMetadata?: Record<string, RpcTypedData>;
  /** Set on a retry: which retry this is, and why the last attempt failed. */
  retryContext?: RpcRetryContext;
  /** Sees what the handler returned before the programming model turns it into the response. */
  beforeResponse?(result: unknown): void;
}

export interface InvocationOutcome {
  response: RpcInvocationResponse;
  /** What the handler returned (after the post-invocation hooks). */
  result: unknown;
}

/**
 * Runs one invocation the way the Node.js worker's InvocationHandler does: the programming
 * model (the app's own `@azure/functions`) turns the RPC inputs into handler arguments,
 * calls the handler between the pre- and post-invocation hooks, and converts the result
 * back into an RPC response. A handler's error is rethrown after the post-invocation hooks.
 */
export async function invokeFunction(
  registry: AppRegistry,
  programmingModel: ProgrammingModel,
  fn: RegisteredFunction,
  inputData: RpcParameterBinding[],
  logger: Logger,
  request: InvocationRequest = {},
): Promise<InvocationOutcome> {
  const invocationId = request.invocationId ?? randomUUID();
  const functionName = fn.metadata.name;
  // Core Tools' lines around every invocation, which people, scripts and Azure's e2e suite read.
  const logged = `'Functions.${functionName}'`;
  if (logger.isEnabled('information')) {
    const reason = request.reason ?? HTTP_REASON;
    logger.log(
      'information',
      functionName,
      `Executing ${logged} (Reason='${reason}', Id=${invocationId})`,
    );
  }
  const started = performance.now();
  const duration = () => `Duration=${Math.round(performance.now() - started)}ms`;
  try {
    const outcome = await run(
      registry,
      programmingModel,
      fn,
      inputData,
      logger,
      request,
      invocationId,
    );
    if (logger.isEnabled('information')) {
      logger.log(
        'information',
        functionName,
        `Executed ${logged} (Succeeded, Id=${invocationId}, ${duration()})`,
      );
    }
    return outcome;
  } catch (err) {
    logger.log(
      'error',
      functionName,
      `Executed ${logged} (Failed, Id=${invocationId}, ${duration()}): ${describeError(err)}`,
    );
    throw err;
  }
}

/** What Core Tools gives as the reason of an HTTP-triggered invocation. */
const HTTP_REASON = 'This function was programmatically called via the host APIs.';

async function run(
  registry: AppRegistry,
  programmingModel: ProgrammingModel,
  fn: RegisteredFunction,
  inputData: RpcParameterBinding[],
  logger: Logger,
  request: InvocationRequest,
  invocationId: string,
): Promise<InvocationOutcome> {
  const functionName = fn.metadata.name;
  // Set once the programming model has built the context; log hooks receive it.
  const invocation: { context?: unknown } = {};
  const coreContext: CoreInvocationContext = {
    invocationId,
    request: {
      invocationId,
      functionId: functionName,
      inputData,
      triggerMetadata: request.triggerMetadata ?? {},
      retryContext: request.retryContext,
    },
    metadata: fn.metadata,
    state: undefined,
    log(level, category, message) {
      logInvocation(registry, logger, functionName, invocation.context, level, category, message);
    },
  };
  const inState = async <T>(state: InvocationState, work: () => Promise<T>): Promise<T> => {
    coreContext.state = state;
    try {
      return await work();
    } finally {
      coreContext.state = undefined;
    }
  };

  const model = await programmingModel.getInvocationModel(coreContext);
  const { context, inputs: initialInputs } = await model.getArguments();
  invocation.context = context;
  const hookData: HookData = {};

  // Object literals rather than hookContext(): copying property descriptors onto a new object
  // took 3 % of the host's CPU per request under load, the most of any one function of the host.
  const pre: PreInvocationContext = {
    get hookData() {
      return hookData;
    },
    get appHookData() {
      return registry.appHookData;
    },
    get invocationContext() {
      return context;
    },
    inputs: initialInputs,
    functionCallback: fn.callback,
  };
  await inState('preInvocationHooks', () => runHooks(registry, 'preInvocation', pre));

  const post: PostInvocationContext = {
    get hookData() {
      return hookData;
    },
    get appHookData() {
      return registry.appHookData;
    },
    get invocationContext() {
      return context;
    },
    inputs: pre.inputs,
    result: null as unknown,
    error: null as unknown,
  };
  try {
    post.result = await inState('invocation', () =>
      guardInvocation(functionName, () =>
        model.invokeFunction(context, pre.inputs, pre.functionCallback),
      ),
    );
  } catch (err) {
    post.error = err;
  }
  await inState('postInvocationHooks', () => runHooks(registry, 'postInvocation', post));

  if (post.error !== null && post.error !== undefined) throw post.error;
  request.beforeResponse?.(post.result);
  return { response: await model.getResponse(context, post.result), result: post.result };
}

function logInvocation(
  registry: AppRegistry,
  logger: Logger,
  functionName: string,
  invocationContext: unknown,
  level: RpcLogLevel,
  category: RpcLogCategory,
  message: string,
): void {
  const logHooks = registry.hooks('log');
  if (logHooks.length === 0 || category !== 'user') {
    logger.log(level, category === 'user' ? functionName : `${functionName}:system`, message);
    return;
  }
  // Log hooks may rewrite the level and message of the app's own log lines.
  const context: LogHookContext = hookContext(
    registry,
    {},
    {
      invocationContext,
      category,
      level,
      message,
    },
  );
  for (const hook of logHooks) hook(context);
  logger.log(context.level, functionName, context.message);
}
