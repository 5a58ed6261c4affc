import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Closes the connection after an early answer (such as 413) to a request whose body is still
 * arriving. Closing at once with unread bytes makes the kernel reset the connection, and the
 * client's next write then fails before it has read the answer. So the answer is sent, the
 * host's side is shut (FIN), what the client still sends is dropped unread, and the socket is
 * destroyed when the client closes or after `lingerMs`.
 */
export function lingerBeforeClose(
  req: IncomingMessage,
  res: ServerResponse,
  lingerMs: number,
): void {
  const socket = req.socket;
  req.resume();
  res.once('finish', () => {
    socket.end();
    const timeout = setTimeout(() => socket.destroy(), lingerMs);
    socket.once('close', () => clearTimeout(timeout));
  });
}

/**
 * Reads and drops what is left of a request body nobody reads any more (the answer went out
 * first). Node does this itself only when nothing ever started reading the body; a reader that
 * stopped midway (the library's stream of it) would otherwise leave the rest in the
 * connection, in front of the client's next request.
 */
export function dropUnreadBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  req.unpipe();
  req.removeAllListeners('data');
  req.removeAllListeners('readable');
  req.resume();
}
