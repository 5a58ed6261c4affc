import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HostStartupError } from '../utils/host-startup-error';
import { refusalForClientError, refuseOnSocket } from './refuse-on-socket';

/**
 * Timeouts for client connections, as Kestrel (the Functions host's server) sets them. There is
 * no limit on a request's total time, so a long upload that keeps moving passes; a client that
 * sends its body too slowly is cut off by the request handler's minimum data rate instead
 * (see BodyRateGuard). Headers must arrive within 30 s. Idle keep-alive connections stay open
 * 130 s, as on Kestrel: longer than the 60 s idle timeout of the reverse proxies commonly in
 * front (nginx upstream keepalive, AWS and most cloud load balancers), so a proxy never sends
 * a request on a connection the host is closing at that moment.
 */
const CONNECTION_TIMEOUTS = {
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 0,
  keepAliveTimeoutMs: 130_000,
  checkIntervalMs: 1_000,
} as const;

export interface ListeningServer {
  server: Server;
  /** The port actually bound (differs from the one asked for when that was 0). */
  port: number;
}

/** A connection's requests: whether one is being answered, and those waiting to start. */
interface ConnectionTurn {
  busy: boolean;
  waiting: Array<() => void>;
}

export function startHttpServer(
  host: string,
  port: number,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<ListeningServer> {
  const server = createServer({
    // The handler answers a missing Host with JSON, as every other refusal.
    requireHostHeader: false,
    headersTimeout: CONNECTION_TIMEOUTS.headersTimeoutMs,
    requestTimeout: CONNECTION_TIMEOUTS.requestTimeoutMs,
    keepAliveTimeout: CONNECTION_TIMEOUTS.keepAliveTimeoutMs,
    connectionsCheckingInterval: CONNECTION_TIMEOUTS.checkIntervalMs,
  });
  const responses = new WeakMap<Duplex, ServerResponse>();
  const turns = new WeakMap<Duplex, ConnectionTurn>();
  // One request at a time per connection, as Kestrel and nginx: a pipelined request waits,
  // in order, for the one before it to be answered, and meanwhile the socket is not read, so
  // what one connection holds is bounded by what Node's parser took in one read.
  const track = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let turn = turns.get(socket);
    if (!turn) {
      const created: ConnectionTurn = { busy: false, waiting: [] };
      turns.set(socket, created);
      // Requests still waiting when the client leaves are never started.
      socket.once('close', () => created.waiting.splice(0));
      turn = created;
    }
    const current = turn;
    const start = () => {
      responses.set(socket, res);
      res.once('close', () => {
        const next = current.waiting.shift();
        if (next) {
          // After this turn's I/O: answering a pipelined batch must not starve other clients.
          setImmediate(next);
        } else {
          current.busy = false;
          socket.resume();
        }
      });
      onRequest(req, res);
    };
    if (current.busy) {
      current.waiting.push(start);
      socket.pause();
    } else {
      current.busy = true;
      start();
    }
  };
  server.on('request', track);
  // Answering `Expect: 100-continue` is left to the handler, which refuses oversized bodies first.
  server.on('checkContinue', track);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node itself does: never write into a response already under way on this connection.
    const res = responses.get(socket);
    if (err.code === 'ECONNRESET' || (res && res.headersSent && !res.writableFinished)) {
      socket.destroy();
    } else {
      refuseOnSocket(socket, refusalForClientError(err.code));
    }
  });
  // No function is a proxy; without this listener Node drops CONNECT without an answer.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    refuseOnSocket(socket, {
      status: 405,
      message: 'CONNECT is not supported: this server runs functions; it is no proxy',
    }),
  );

  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.close();
      if (err.code === 'EADDRINUSE') {
        reject(
          new HostStartupError(
            `port ${port} on ${host} is already in use; stop the other process or set PORT to a free port`,
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new HostStartupError(
            `no permission to listen on ${host}:${port}; choose a PORT above 1023`,
          ),
        );
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(
          new HostStartupError(
            `cannot listen on ${host}: the address is not available here; set HOST to 127.0.0.1 or 0.0.0.0`,
          ),
        );
      } else {
        reject(new HostStartupError(`cannot listen on ${host}:${port}: ${err.message}`));
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}
