import {
  Agent,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request as httpRequest,
  type ServerResponse,
} from 'node:http';
import { pipeline, Transform, type TransformCallback } from 'node:stream';

/** Headers that describe one connection, not the message, and so are not forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);
const INVOCATION_ID_HEADER = 'x-ms-invocation-id';

/**
 * One pool of connections to the library's proxy for all requests, as a reverse proxy keeps.
 * The library's server closes a connection idle for 5 s (Node's keepAliveTimeout); a pooled
 * one picked at that moment fails with "socket hang up" (a 500), which four hosts under mixed
 * load met about once in 4 runs of tests/reliability/delete-under-load.test.ts. Idle pooled
 * connections are dropped after 4 s, before the server closes them. (The timeout only drops
 * free connections: a quiet stream in use is left alone.)
 */
const proxyAgent = new Agent({ keepAlive: true, timeout: 4000 });

export interface ForwardOptions {
  proxyUri: URL;
  invocationId: string;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Added to the forwarded response (CORS). */
  responseHeaders: OutgoingHttpHeaders | undefined;
  maxBodyBytes: number;
}

export type ForwardOutcome =
  | { kind: 'answered'; status: number }
  | { kind: 'noAnswer' }
  | { kind: 'tooLarge' }
  | { kind: 'failed'; error: Error };

export interface Forwarding {
  /** Settles once the client has the whole answer, or the exchange broke off. */
  readonly done: Promise<ForwardOutcome>;
  /** True once the library has started answering (status and headers went to the client). */
  readonly answered: boolean;
  /** Breaks the exchange off, e.g. because the invocation failed or gave no HTTP answer. */
  abort(): void;
}

/**
 * Forwards the client's request to the library's proxy server, as the Functions host does in
 * streaming mode, and the library's answer back to the client: both bodies flow through as
 * they arrive, with back-pressure, never held whole. The invocation itself is started by the
 * caller with the same invocation id; the library pairs the two by that id.
 */
export function forwardToAppProxy(options: ForwardOptions): Forwarding {
  const { req, res, url, maxBodyBytes } = options;
  let answered = false;
  let settle: (outcome: ForwardOutcome) => void = () => undefined;
  const done = new Promise<ForwardOutcome>((resolve) => {
    settle = (outcome) => {
      settle = () => undefined;
      resolve(outcome);
    };
  });

  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && name !== 'host') headers[name] = value;
  }
  headers[INVOCATION_ID_HEADER] = options.invocationId;
  headers['x-forwarded-host'] = url.host;
  headers['x-forwarded-proto'] = url.protocol.replace(/:$/, '');
  const hasBody =
    req.headers['transfer-encoding'] !== undefined ||
    Number(req.headers['content-length'] ?? 0) > 0;
  if (req.headers['transfer-encoding'] !== undefined) delete headers['content-length'];

  // The path is set, not resolved against the proxy's URI: `//x` must stay a path.
  const target = new URL(options.proxyUri);
  target.pathname = url.pathname;
  target.search = url.search;
  const proxyReq = httpRequest(target, {
    method: req.method,
    headers,
    agent: proxyAgent,
  });
  proxyReq.on('error', (error) => settle({ kind: 'failed', error }));
  proxyReq.on('response', (proxyRes) => {
    answered = true;
    const answerHeaders: OutgoingHttpHeaders = { ...options.responseHeaders };
    for (const [name, value] of Object.entries(proxyRes.headers)) {
      if (!HOP_BY_HOP.has(name) && name !== INVOCATION_ID_HEADER) answerHeaders[name] = value;
    }
    const status = proxyRes.statusCode ?? 200;
    res.writeHead(status, answerHeaders);
    // An event stream's client should see the status before the first event.
    res.flushHeaders();
    pipeline(proxyRes, res, (error) =>
      settle(error ? { kind: 'failed', error } : { kind: 'answered', status }),
    );
  });

  // A client that leaves mid-answer ends the exchange with the library too.
  res.on('close', () => {
    if (!res.writableFinished) {
      proxyReq.destroy();
      settle({ kind: 'failed', error: new Error('the client disconnected') });
    }
  });

  if (hasBody) {
    pipeline(req, limitBytes(maxBodyBytes), proxyReq, (error) => {
      if (error instanceof BodyTooLargeError) settle({ kind: 'tooLarge' });
      else if (error) settle({ kind: 'failed', error });
    });
  } else {
    proxyReq.end();
  }

  return {
    done,
    get answered() {
      return answered;
    },
    abort() {
      proxyReq.destroy();
      settle({ kind: 'noAnswer' });
    },
  };
}

class BodyTooLargeError extends Error {}

function limitBytes(maxBytes: number): Transform {
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      received += chunk.length;
      if (received > maxBytes) callback(new BodyTooLargeError(`more than ${maxBytes} bytes`));
      else callback(null, chunk);
    },
  });
}
