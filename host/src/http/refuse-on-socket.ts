import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export interface SocketRefusal {
  status: number;
  message: string;
}

/**
 * What to answer a request Node's HTTP parser refused before it became a request object
 * (Node's default is a bare status line without a body): 431 for a request line and
 * headers over the limit, 408 for a request cut off by the timeouts, 400 for the rest.
 */
export function refusalForClientError(code: string | undefined): SocketRefusal {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        message:
          'the request line and headers are larger than 16 KiB; send a shorter URL or fewer headers',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'the request did not arrive in time; send it again' };
    case 'HPE_INVALID_METHOD':
      return { status: 400, message: 'the request method is not a known HTTP method' };
    default:
      return {
        status: 400,
        message: `the request is not valid HTTP/1.1 (${code ?? 'unreadable'})`,
      };
  }
}

/**
 * Answers on the raw connection with the JSON `{"error": ...}` every other answer uses,
 * then closes it: what follows a request the server could not read cannot be trusted.
 */
export function refuseOnSocket(socket: Duplex, { status, message }: SocketRefusal): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
