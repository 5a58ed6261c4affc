import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RawReply {
  /** 0 when the server closed the connection without answering. */
  status: number;
  head: string;
  body: string;
}

/** Parses what came back on a raw connection (one response, as these requests close it). */
export function parseRawReply(received: Buffer): RawReply {
  const text = received.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] ([0-9]{3})/.exec(text);
  const head = end < 0 ? text : text.slice(0, end);
  // latin1 maps bytes to characters one to one, so the text offset is the byte offset.
  const raw = end < 0 ? Buffer.alloc(0) : received.subarray(end + 4);
  const chunked = /\r\ntransfer-encoding:[ \t]*chunked/i.test(head);
  return {
    status: status ? Number(status[1]) : 0,
    head,
    body: (chunked ? decodeChunked(raw) : raw).toString('utf8'),
  };
}

/**
 * The payload of a chunked body (streamed answers have no Content-Length); stops at the last
 * chunk, or at what arrived when the connection ended early.
 */
function decodeChunked(raw: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at, 'latin1');
    if (lineEnd < 0) break;
    const size = parseInt(raw.toString('latin1', at, lineEnd), 16);
    if (!(size > 0)) break;
    pieces.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(pieces);
}

export interface RawOptions {
  /** Pause between pieces, in ms. */
  gapMs?: number;
  /** The last piece is held back until this resolves. */
  holdLastPieceUntil?: Promise<unknown>;
  /** Called once every piece but the last has been written and the last is held back. */
  onHoldingLastPiece?: () => void;
  /** Give up waiting for the server after this long; default 5 s. */
  timeoutMs?: number;
}

/**
 * Writes `pieces` one after another on a fresh TCP connection, exactly as given (so
 * malformed requests reach the server as they are), stops writing once the server answers,
 * and collects the answer until the server closes the connection or the timeout passes.
 */
export function rawExchange(
  port: number,
  pieces: Buffer[],
  options: RawOptions = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRawReply(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', finish);
    // The server may close while we still write (e.g. after refusing a large body).
    socket.on('error', finish);
    socket.on('connect', () => {
      void (async () => {
        for (const [i, piece] of pieces.entries()) {
          if (finished || chunks.length > 0) return;
          if (i === pieces.length - 1 && options.holdLastPieceUntil) {
            options.onHoldingLastPiece?.();
            await options.holdLastPieceUntil;
          }
          if (!socket.write(piece)) await new Promise((drained) => socket.once('drain', drained));
          if (options.gapMs !== undefined) await sleep(options.gapMs);
        }
      })();
    });
  });
}

/** `text` as one piece per byte, for a client that trickles its request. */
export const bytewise = (text: string): Buffer[] =>
  [...Buffer.from(text, 'latin1')].map((byte) => Buffer.from([byte]));
