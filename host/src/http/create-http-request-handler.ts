import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AppRegistry, RegisteredFunction } from '../app/app-registry';
import type { ProgrammingModel, RpcHttpData, RpcInvocationResponse } from '../core/core-types';
import { type CorsPolicy, corsPreflightHeaders, corsResponseHeaders } from './cors-policy';
import { describeError } from '../utils/describe-error';
import { fromRpcHttpResponse, type HttpAnswer } from '../converters/from-rpc-http-response';
import type { InFlightTracker } from '../utils/in-flight-tracker';
import { invokeFunction } from '../invocation/invoke-function';
import type { AppHttpProxy } from './app-http-proxy';
import { tieBodyToClient } from './tie-body-to-client';
import { finished } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { dropUnreadBody, lingerBeforeClose } from './linger-before-close';
import { BodyRateGuard, MIN_REQUEST_BODY_RATE } from './body-rate-guard';
import type { Logger } from '../utils/logger';
import { readRequestBody } from './read-request-body';
import { type HttpRoute, RouteTable } from './route-table';
import { toRoutingPath } from './compile-route';
import { readRequestTarget } from './read-request-target';
import { toRpcHttpRequest, toRpcHttpTriggerMetadata } from '../converters/to-rpc-http-request';

export interface HttpFunction {
  route: HttpRoute;
  fn: RegisteredFunction;
  /** The name of the function's httpTrigger binding, under which the request is passed. */
  triggerName: string;
}

export interface HttpRequestHandlerOptions {
  registry: AppRegistry;
  programmingModel: ProgrammingModel;
  functions: HttpFunction[];
  cors: CorsPolicy | undefined;
  logger: Logger;
  inFlight: InFlightTracker;
  maxBodyBytes: number;
  /** Set when the app enabled HTTP streams: requests and answers then go through it. */
  appProxy?: AppHttpProxy;
  /** True once shutdown has begun: new requests are turned away and connections closed. */
  isDraining(): boolean;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

const NO_BODY = new Uint8Array(0);
/** How long a client that sent too large a body may go on sending (dropped) after the 413. */
const TOO_LARGE_LINGER_MS = 2000;

/**
 * Answers HTTP requests by invoking the matching function through the programming model.
 * A request no function takes, and a function that failed, get the Functions host's empty
 * 404 and 500. The host's own refusals (body too large, bad URL, shutting down) carry a
 * JSON `{"error": ...}` saying what to do.
 */
export function createHttpRequestHandler(options: HttpRequestHandlerOptions): RequestListener {
  const { registry, programmingModel, cors, logger, inFlight, maxBodyBytes } = options;
  /** Requests cut off for a slow body: their invocations' failures are no news. */
  const cutOff = new WeakSet<IncomingMessage>();
  const bodyRate = new BodyRateGuard(MIN_REQUEST_BODY_RATE, (req, res) => {
    logger.log(
      'warning',
      'host',
      `${req.method} ${req.url}: the request body came slower than ${MIN_REQUEST_BODY_RATE.bytesPerSecond} bytes/s; connection closed`,
    );
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    cutOff.add(req);
    lingerBeforeClose(req, res, TOO_LARGE_LINGER_MS);
    send(
      req,
      res,
      jsonError(
        408,
        `the request body arrived slower than ${MIN_REQUEST_BODY_RATE.bytesPerSecond} bytes/s; send it again, faster`,
        { connection: 'close' },
      ),
    );
  });
  const table = new RouteTable(options.functions.map((httpFunction) => httpFunction.route));
  const functionsByName = new Map(options.functions.map((f) => [f.route.functionName, f]));

  const send = (req: IncomingMessage, res: ServerResponse, answer: HttpAnswer): void => {
    const headers: OutgoingHttpHeaders = { ...corsHeadersFor(req), ...answer.headers };
    if (options.isDraining()) headers.connection = 'close';
    if (answer.status === 204 || answer.status === 304) {
      delete headers['content-length'];
      res.writeHead(answer.status, headers).end();
    } else {
      headers['content-length'] = answer.body.byteLength;
      res.writeHead(answer.status, headers).end(answer.body);
    }
  };

  const corsHeadersFor = (req: IncomingMessage): Record<string, string> | undefined => {
    const origin = req.headers.origin;
    return cors && origin ? corsResponseHeaders(cors, origin) : undefined;
  };

  const logHostAnswer = (req: IncomingMessage, path: string, status: number): void => {
    if (logger.isEnabled('debug'))
      logger.log('debug', 'host', `${req.method} ${path} -> ${status}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    if (options.isDraining()) {
      send(
        req,
        res,
        jsonError(503, 'the server is shutting down; retry shortly', { 'retry-after': '1' }),
      );
      return;
    }

    const target = readRequestTarget(req);
    if (!('url' in target)) {
      send(req, res, jsonError(target.status, target.message, { connection: 'close' }));
      logHostAnswer(req, req.url ?? '', target.status);
      return;
    }
    const { url } = target;
    const path = url.pathname;
    const routingPath = toRoutingPath(path);

    if (
      method === 'OPTIONS' &&
      cors &&
      req.headers.origin &&
      req.headers['access-control-request-method']
    ) {
      const allowedMethods = table.allowedMethods(routingPath);
      if (allowedMethods.length === 0) {
        send(req, res, emptyAnswer(404));
      } else {
        const preflight = corsPreflightHeaders(
          cors,
          req.headers.origin,
          req.headers['access-control-request-method'],
          req.headers['access-control-request-headers'],
        );
        send(req, res, {
          status: 204,
          headers: { allow: allowedMethods.join(', '), ...preflight },
          body: NO_BODY,
        });
      }
      logHostAnswer(req, path, res.statusCode);
      return;
    }

    const lookup = table.lookup(method, routingPath);
    if (lookup.kind === 'notFound') {
      // As the Functions host: 404 with no body, whether the path is unknown or known only for
      // other methods. An app that wants its own answer registers a catch-all route.
      send(req, res, emptyAnswer(404));
      logHostAnswer(req, path, 404);
      return;
    }

    const httpFunction = functionsByName.get(lookup.route.functionName);
    if (!httpFunction) throw new Error(`route without function: ${lookup.route.functionName}`);
    const functionName = httpFunction.fn.metadata.name;
    const started = performance.now();

    if (
      req.headers.expect?.toLowerCase() === '100-continue' &&
      !declaresTooLarge(req, maxBodyBytes)
    ) {
      res.writeContinue();
    }
    if (options.appProxy) {
      if (declaresTooLarge(req, maxBodyBytes)) {
        lingerBeforeClose(req, res, TOO_LARGE_LINGER_MS);
        send(req, res, jsonError(413, `the request body is larger than ${maxBodyBytes} bytes`));
        logHostAnswer(req, path, 413);
        return;
      }
      const status = await answerByStream(
        options.appProxy,
        httpFunction,
        url,
        lookup.params,
        req,
        res,
      );
      logger.log(
        'information',
        functionName,
        `${method} ${path} -> ${status} in ${elapsed(started)} ms`,
      );
      return;
    }

    const bodyRead = await readRequestBody(req, maxBodyBytes);
    if (bodyRead.kind === 'aborted') return;
    if (bodyRead.kind === 'tooLarge') {
      lingerBeforeClose(req, res, TOO_LARGE_LINGER_MS);
      send(req, res, jsonError(413, `the request body is larger than ${maxBodyBytes} bytes`));
      logHostAnswer(req, path, 413);
      return;
    }

    let answer: HttpAnswer;
    try {
      const rpcRequest = toRpcHttpRequest(method, url, req.headers, lookup.params, bodyRead.body);
      const inputData = [{ name: httpFunction.triggerName, data: { http: rpcRequest } }];
      const { response } = await invokeFunction(
        registry,
        programmingModel,
        httpFunction.fn,
        inputData,
        logger,
        { triggerMetadata: toRpcHttpTriggerMetadata(url, req.headers, lookup.params) },
      );
      const http = httpDataOf(response);
      answer = http ? fromRpcHttpResponse(http) : { status: 204, headers: {}, body: NO_BODY };
    } catch {
      // invokeFunction logged the failure, with the error; the client learns nothing of it.
      answer = emptyAnswer(500);
    }
    send(req, res, answer);
    logger.log(
      'information',
      functionName,
      `${method} ${path} -> ${answer.status} in ${elapsed(started)} ms`,
    );
  };

  /**
   * Streaming mode: the request goes to the library's proxy handler, in this process, while
   * the invocation runs; the library reads the body and writes the answer itself, so the
   * invocation's response carries no HTTP data. Resolves with the status the client got (0 if
   * it left or the answer broke off).
   */
  const answerByStream = async (
    appProxy: AppHttpProxy,
    httpFunction: HttpFunction,
    url: URL,
    params: Record<string, string>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<number> => {
    const invocationId = randomUUID();
    const method = req.method ?? 'GET';
    // Taken before the hand-over, which gives the library's view of the request headers of its
    // own (the invocation id, x-forwarded-host/-proto); the Functions host sends those to the
    // library's proxy only, and the handler sees the client's headers as sent. The body goes
    // to the library as a stream, never in the invocation.
    const rpcRequest = toRpcHttpRequest(method, url, req.headers, params, Buffer.alloc(0));
    const triggerMetadata = toRpcHttpTriggerMetadata(url, req.headers, params);
    let tooLarge = false;
    const handedOver = appProxy.handOver({
      invocationId,
      req,
      res,
      url,
      responseHeaders: corsHeadersFor(req),
      maxBodyBytes,
      onTooLarge: () => {
        tooLarge = true;
        if (res.headersSent || res.destroyed) return;
        handedOver.detach();
        lingerBeforeClose(req, res, TOO_LARGE_LINGER_MS);
        send(req, res, jsonError(413, `the request body is larger than ${maxBodyBytes} bytes`));
      },
    });
    try {
      const { result } = await invokeFunction(
        registry,
        programmingModel,
        httpFunction.fn,
        [{ name: httpFunction.triggerName, data: { http: rpcRequest } }],
        logger,
        {
          invocationId,
          triggerMetadata,
          beforeResponse: (result) => tieBodyToClient(result, res),
        },
      );
      // Without a result the library writes nothing: answer 204 as without streams.
      if ((result === undefined || result === null) && !res.headersSent && !res.destroyed) {
        handedOver.detach();
        send(req, res, { status: 204, headers: {}, body: NO_BODY });
      }
    } catch {
      // invokeFunction logged the failure, with the error. A handler that failed reading a
      // body cut off at the limit, or too slow, has had its 413 or 408.
      if (!tooLarge && !cutOff.has(req) && !res.destroyed) {
        handedOver.detach();
        if (!res.headersSent) send(req, res, emptyAnswer(500));
        else res.destroy();
      }
    }
    await finished(res).catch(() => undefined);
    return res.writableFinished ? res.statusCode : 0;
  };

  return (req, res) => {
    res.once('close', inFlight.begin());
    bodyRate.watch(req, res);
    // As Kestrel: a body the app left unread is read and dropped once the answer is out, so
    // the connection can carry the next request instead of stalling behind it.
    res.once('finish', () => dropUnreadBody(req));
    handle(req, res).catch((err: unknown) => {
      logger.log(
        'error',
        'host',
        `answering ${req.method} ${req.url} failed: ${describeError(err)}`,
      );
      if (!res.headersSent) send(req, res, emptyAnswer(500));
      else res.destroy();
    });
  };
}

function httpDataOf(response: RpcInvocationResponse): RpcHttpData | undefined {
  if (response.returnValue?.http) return response.returnValue.http;
  return response.outputData?.find((output) => output.data?.http)?.data?.http ?? undefined;
}

function declaresTooLarge(req: IncomingMessage, maxBodyBytes: number): boolean {
  return Number(req.headers['content-length'] ?? 0) > maxBodyBytes;
}

/**
 * What the Functions host answers when no function answers (404) or the function failed
 * (500): the status and no body, so nothing about the failure reaches the client.
 */
function emptyAnswer(status: number): HttpAnswer {
  return { status, headers: {}, body: NO_BODY };
}

function jsonError(status: number, message: string, headers: OutgoingHttpHeaders = {}): HttpAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: Buffer.from(JSON.stringify({ error: message })),
  };
}

function elapsed(started: number): string {
  return (performance.now() - started).toFixed(1);
}
