import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type Readable, Transform, type TransformCallback } from 'node:stream';

/**
 * In streaming mode (`app.setup({ enableHttpStream: true })`) the library opens its own HTTP
 * server while the worker asks for its capabilities, and pairs each request that server gets
 * with an invocation by the `x-ms-invocation-id` header. The Functions host forwards requests
 * to that server over loopback; this host runs in the same process as the library, so it hands
 * each request to the server's `request` listener directly: no second connection, no copy of
 * the body, and no loopback socket that can be reset under load.
 */
export interface AppHttpProxy {
  /**
   * Hands the client's request to the library for the invocation `invocationId`: the library
   * reads the body from it, as it arrives, and writes the handler's answer to the client.
   * A request with a declared length goes to the library as it is, with `headers` replaced by
   * a copy holding the invocation id and `x-forwarded-*` the library reads: so read anything
   * the invocation needs from `req.headers` before this call.
   */
  handOver(exchange: Exchange): HandedOver;
}

export interface Exchange {
  invocationId: string;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Added to the answer (CORS); the handler's own headers win. */
  responseHeaders: OutgoingHttpHeaders | undefined;
  maxBodyBytes: number;
  /** Called when a body without Content-Length grows past `maxBodyBytes`. */
  onTooLarge(): void;
}

export interface HandedOver {
  /** Stops the library writing to the client, e.g. once the host answers instead. */
  detach(): void;
}

const INVOCATION_ID_HEADER = 'x-ms-invocation-id';
/**
 * Headers that describe one connection, not the message: the Functions host drops them from a
 * streamed answer, and libraries before 4.7 pass the handler's through unfiltered.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  INVOCATION_ID_HEADER,
]);

type RequestListener = (req: unknown, res: unknown) => void;

/**
 * Asks the programming model for its capabilities, as the worker does at start-up (this also
 * locks the app's `app.setup(...)`). Returns the proxy when the app enabled streaming.
 */
export async function readAppHttpProxy(
  getCapabilities: () => Promise<Record<string, string>>,
): Promise<AppHttpProxy | undefined> {
  const { result: capabilities, servers } = await capturingServers(getCapabilities);
  const listeners = servers.flatMap((server) => server.listeners('request') as RequestListener[]);
  const close = () => {
    for (const server of servers) {
      // The library logs "Http proxy closing" on close; the host stopped using the port long before.
      server.removeAllListeners('close');
      server.close();
      server.closeAllConnections();
    }
  };
  if (!capabilities.HttpUri) {
    close();
    return undefined;
  }
  if (listeners.length !== 1) {
    close();
    throw new Error(
      `the app's @azure/functions opened ${listeners.length} HTTP request listeners for streams; the host expects one`,
    );
  }
  const [listener] = listeners;
  // Nothing reaches the library over its port any more, so nothing else on the machine may either.
  close();
  return { handOver: (exchange) => handOver(listener, exchange) };
}

function handOver(listener: RequestListener, exchange: Exchange): HandedOver {
  const { req, res, url } = exchange;
  const headers: IncomingHttpHeaders = {
    ...req.headers,
    [INVOCATION_ID_HEADER]: exchange.invocationId,
    'x-forwarded-host': url.host,
    'x-forwarded-proto': url.protocol.replace(/:$/, ''),
  };
  const answer = new ProxyResponse(res);
  for (const [name, value] of Object.entries(exchange.responseHeaders ?? {})) {
    if (value !== undefined) res.setHeader(name, value);
  }
  listener(requestView(exchange, headers), answer);
  return { detach: () => answer.detach() };
}

/**
 * What the library reads the request from: its method, URL and headers, and a stream of the
 * body. A body whose length is declared is the request itself (the HTTP parser stops at that
 * length, and a declared length over the limit is refused before this); a chunked body goes
 * through a counter that stops it at `maxBodyBytes`.
 */
function requestView(exchange: Exchange, headers: IncomingHttpHeaders): Readable {
  const { req } = exchange;
  const fields = { headers, method: req.method, url: req.url };
  if (req.headers['transfer-encoding'] === undefined) return Object.assign(req, fields);
  const limited = limitBytes(exchange.maxBodyBytes);
  // Not `pipeline`: it would destroy the request, and with it the connection the 413 goes out on.
  req.pipe(limited);
  limited.on('error', (error) => {
    req.unpipe(limited);
    if (error instanceof BodyTooLargeError) exchange.onTooLarge();
  });
  req.once('close', () => {
    if (!req.complete) limited.destroy(new Error('the client disconnected'));
  });
  return Object.assign(limited, fields);
}

/**
 * What the library writes the handler's answer to: the few members of `ServerResponse` every
 * 4.x library uses (`statusCode`, `setHeader`, `write`, `end`), passed to the client's response
 * without hop-by-hop headers. The library keeps this object for good when the handler fails
 * or returns nothing, so it lets go of the client's response once detached.
 */
class ProxyResponse {
  private res: ServerResponse | undefined;

  constructor(res: ServerResponse) {
    this.res = res;
    res.once('close', () => this.detach());
  }

  detach(): void {
    this.res = undefined;
  }

  get statusCode(): number {
    return this.res?.statusCode ?? 0;
  }

  set statusCode(status: number) {
    if (this.res && !this.res.headersSent) this.res.statusCode = status;
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    if (this.res && !this.res.headersSent && !HOP_BY_HOP.has(name.toLowerCase())) {
      this.res.setHeader(name, value);
    }
    return this;
  }

  write(chunk: Uint8Array | string): boolean {
    return this.res && !this.res.destroyed ? this.res.write(chunk) : false;
  }

  end(): this {
    if (this.res && !this.res.destroyed) this.res.end();
    return this;
  }
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

/**
 * Runs `work` noting every HTTP server created meanwhile: the library creates its proxy server
 * with `http.createServer()` and keeps it to itself.
 */
async function capturingServers<T>(
  work: () => Promise<T>,
): Promise<{ result: T; servers: Server[] }> {
  const servers: Server[] = [];
  const originalCreateServer = http.createServer;
  const capture = (...args: Parameters<typeof http.createServer>): Server => {
    const server = Reflect.apply(originalCreateServer, http, args) as Server;
    servers.push(server);
    return server;
  };
  http.createServer = capture as typeof http.createServer;
  try {
    return { result: await work(), servers };
  } finally {
    http.createServer = originalCreateServer;
  }
}
