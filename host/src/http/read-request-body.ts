import type { IncomingMessage } from 'node:http';

export type BodyReadResult =
  { kind: 'read'; body: Buffer } | { kind: 'tooLarge' } | { kind: 'aborted' };

const EMPTY_BODY: BodyReadResult = { kind: 'read', body: Buffer.alloc(0) };

/**
 * Reads the request body up to `limitBytes`. A declared Content-Length over the limit is
 * refused before a byte is read; a chunked body is refused as soon as it passes the limit,
 * and the rest is left unread (the caller answers 413 and closes the connection).
 */
export function readRequestBody(
  req: IncomingMessage,
  limitBytes: number,
): Promise<BodyReadResult> | BodyReadResult {
  const declared = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (declared === undefined || declared === '0')) return EMPTY_BODY;
  if (!chunked && Number(declared) > limitBytes) return { kind: 'tooLarge' };

  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (result: BodyReadResult) => {
      req.off('data', onData).off('end', onEnd).off('error', onAborted).off('close', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) {
        req.pause();
        finish({ kind: 'tooLarge' });
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () =>
      finish({ kind: 'read', body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) });
    const onAborted = () => finish({ kind: 'aborted' });
    req.on('data', onData).on('end', onEnd).on('error', onAborted).on('close', onAborted);
  });
}
