import type * as AzureFunctions from '@azure/functions';
import { AppRegistry, type RegisteredFunction } from '../../src/app/app-registry';
import type { ProgrammingModel, RpcLogLevel } from '../../src/core/core-types';
import { createCoreApi } from '../../src/core/create-core-api';
import { findTriggerBinding } from '../../src/app/find-trigger-binding';
import { fromRpcHttpResponse } from '../../src/converters/from-rpc-http-response';
import { invokeFunction } from '../../src/invocation/invoke-function';
import type { Logger } from '../../src/utils/logger';
import { toRpcHttpRequest } from '../../src/converters/to-rpc-http-request';
import { toRpcTimerInfo } from '../../src/converters/to-rpc-timer-info';

// The real @azure/functions library, registering with this host's core API: these tests
// check the RPC shapes the host produces and reads against the library itself.

const registry = new AppRegistry();
const logLines: [RpcLogLevel, string, string][] = [];
const logger: Logger = {
  level: 'trace',
  isEnabled: () => true,
  log: (level, source, message) => logLines.push([level, source, message]),
};
jest.doMock('@azure/functions-core', () => createCoreApi(registry, () => undefined), {
  virtual: true,
});

let app: typeof AzureFunctions.app;
let programmingModel: ProgrammingModel;

beforeAll(async () => {
  ({ app } = await import('@azure/functions'));
  app.http('echo', {
    methods: ['POST'],
    route: 'echo/{id}',
    handler: async (request, context) => {
      context.warn('echo warns');
      return {
        status: 201,
        headers: { 'x-id': request.params.id },
        cookies: [{ name: 'seen', value: '1' }],
        jsonBody: {
          method: request.method,
          url: request.url,
          by: request.query.get('by'),
          type: request.headers.get('content-type'),
          body: await request.text(),
        },
      };
    },
  });
  app.http('fails', {
    methods: ['GET'],
    handler: async () => Promise.reject(new Error('handler failed')),
  });
  app.timer('tick', {
    schedule: '* * * * * *',
    handler: (timer, context) => context.log(JSON.stringify(timer)),
  });
  programmingModel = registry.programmingModel as ProgrammingModel;
});

beforeEach(() => {
  logLines.length = 0;
});

const fn = (name: string): RegisteredFunction => registry.functions.get(name) as RegisteredFunction;
const triggerName = (name: string) => findTriggerBinding(fn(name).metadata)?.name ?? '';

function httpInput(
  name: string,
  method: string,
  url: string,
  params: Record<string, string>,
  body = '',
) {
  const headers = { 'content-type': 'text/plain', host: 'localhost:8000' };
  const http = toRpcHttpRequest(method, new URL(url), headers, params, Buffer.from(body));
  return [{ name: triggerName(name), data: { http } }];
}

/** POST /echo/1 to the fixture's echo function, which logs a warning line. */
const invokeEcho = () =>
  invokeFunction(
    registry,
    programmingModel,
    fn('echo'),
    httpInput('echo', 'POST', 'http://h/echo/1', { id: '1' }),
    logger,
  );

describe('invokeFunction', () => {
  it('gives the handler the request in RPC shape and returns its answer as RPC http data', async () => {
    const input = httpInput('echo', 'POST', 'http://localhost:8000/echo/7?by=3', { id: '7' }, 'hi');
    const { response } = await invokeFunction(
      registry,
      programmingModel,
      fn('echo'),
      input,
      logger,
    );
    const http = response.returnValue?.http;
    expect(http).toBeDefined();
    const answer = fromRpcHttpResponse(http ?? {});
    expect(answer.status).toBe(201);
    expect(answer.headers).toMatchObject({
      'x-id': '7',
      'content-type': 'application/json',
      'set-cookie': ['seen=1; path=/'],
    });
    expect(JSON.parse(Buffer.from(answer.body).toString())).toEqual({
      method: 'POST',
      url: 'http://localhost:8000/echo/7?by=3',
      by: '3',
      type: 'text/plain',
      body: 'hi',
    });
  });

  it("logs the handler's context lines under the function's name with their level", async () => {
    await invokeEcho();
    expect(logLines).toContainEqual(['warning', 'echo', 'echo warns']);
  });

  it('passes a timer the info the library camel-cases into {isPastDue, schedule, scheduleStatus}', async () => {
    const info = {
      isPastDue: true,
      adjustForDST: true,
      last: new Date('2025-01-01T00:00:00Z'),
      next: new Date('2025-01-01T00:00:02Z'),
      lastUpdated: new Date('2025-01-01T00:00:01Z'),
    };
    const input = [{ name: triggerName('tick'), data: toRpcTimerInfo(info) }];
    await invokeFunction(registry, programmingModel, fn('tick'), input, logger);
    const logged =
      logLines.find(([, source, message]) => source === 'tick' && message.startsWith('{'))?.[2] ??
      '';
    expect(JSON.parse(logged)).toEqual({
      isPastDue: true,
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: '2025-01-01T00:00:00.000Z',
        next: '2025-01-01T00:00:02.000Z',
        lastUpdated: '2025-01-01T00:00:01.000Z',
      },
    });
  });

  it('rethrows a handler error after the postInvocation hooks have seen it', async () => {
    const seen: unknown[] = [];
    const hook = app.hook.postInvocation((context) => {
      seen.push((context.error as Error).message);
    });
    try {
      const input = httpInput('fails', 'GET', 'http://h/api/fails', {});
      await expect(
        invokeFunction(registry, programmingModel, fn('fails'), input, logger),
      ).rejects.toThrow('handler failed');
      expect(seen).toEqual(['handler failed']);
    } finally {
      hook.dispose();
    }
  });

  it("logs Core Tools' Executing and Executed lines around an invocation, naming the error when it failed", async () => {
    logLines.length = 0;
    const input = httpInput('fails', 'GET', 'http://h/api/fails', {});
    await expect(
      invokeFunction(registry, programmingModel, fn('fails'), input, logger, {
        invocationId: 'a1b2',
        reason: 'a test called it',
      }),
    ).rejects.toThrow('handler failed');
    expect(logLines[0]).toEqual([
      'information',
      'fails',
      "Executing 'Functions.fails' (Reason='a test called it', Id=a1b2)",
    ]);
    expect(logLines.at(-1)).toEqual([
      'error',
      'fails',
      expect.stringMatching(
        /^Executed 'Functions\.fails' \(Failed, Id=a1b2, Duration=\d+ms\): Error: handler failed/,
      ),
    ]);
  });

  it('lets preInvocation hooks replace the handler, and shares hookData with postInvocation hooks', async () => {
    const pre = app.hook.preInvocation((context) => {
      context.hookData.marker = 'from pre';
      context.functionHandler = async () => ({ body: 'replaced' });
    });
    const post = app.hook.postInvocation((context) => {
      context.result = {
        body: `${(context.result as { body: string }).body} ${context.hookData.marker}`,
      };
    });
    try {
      const input = httpInput('fails', 'GET', 'http://h/api/fails', {});
      const { response } = await invokeFunction(
        registry,
        programmingModel,
        fn('fails'),
        input,
        logger,
      );
      expect(
        Buffer.from(fromRpcHttpResponse(response.returnValue?.http ?? {}).body).toString(),
      ).toBe('replaced from pre');
    } finally {
      pre.dispose();
      post.dispose();
    }
  });

  it("lets log hooks rewrite the level and message of the app's own lines", async () => {
    const hook = app.hook.log((context) => {
      if (context.category === 'user') {
        context.level = 'error';
        context.message = `[redacted] ${context.message}`;
      }
    });
    try {
      await invokeEcho();
      expect(logLines).toContainEqual(['error', 'echo', '[redacted] echo warns']);
    } finally {
      hook.dispose();
    }
  });
});
