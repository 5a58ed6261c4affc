import type { ServerResponse } from 'node:http';

/**
 * Ties the handler's response body stream to the client, which the library does not do: it
 * copies that stream into the response with `for await` and `write`, ignoring what `write`
 * returns and whether the client is still there. So each chunk is read only once the client
 * has taken the last ones (back-pressure: a slow client slows the handler's stream instead of
 * filling memory), and the stream is cancelled when the client leaves before it ended, so an
 * endless stream (Server-Sent Events) stops producing. The stream is locked by the time the
 * library reads it, so both go through the reader the library's loop is given here.
 */
export function tieBodyToClient(result: unknown, res: ServerResponse): void {
  const stream = bodyStreamOf(result);
  if (!stream) return;
  let reader: ReadableStreamDefaultReader<unknown> | undefined;
  const iterate = (): AsyncIterableIterator<unknown> => {
    const ownReader = stream.getReader();
    reader = ownReader;
    return {
      async next() {
        await clientCaughtUp(res);
        const { done, value } = await ownReader.read();
        return done ? { done: true, value: undefined } : { done: false, value };
      },
      async return(value?: unknown) {
        await ownReader.cancel();
        return { done: true, value };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
  Object.defineProperty(stream, 'values', { value: iterate, configurable: true });
  Object.defineProperty(stream, Symbol.asyncIterator, { value: iterate, configurable: true });
  res.on('close', () => {
    if (res.writableFinished) return;
    const reason = new Error('the client disconnected');
    const cancelled = reader ? reader.cancel(reason) : stream.cancel(reason);
    // The handler's own cancel callback may fail; the client is gone either way.
    cancelled.catch(() => undefined);
  });
}

/** Resolves once the response's buffer has drained, or the client has gone. */
function clientCaughtUp(res: ServerResponse): Promise<void> | undefined {
  if (!res.writableNeedDrain || res.destroyed) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The body of an `HttpResponse` or `HttpResponseInit`, when it is a web ReadableStream. */
function bodyStreamOf(result: unknown): ReadableStream<unknown> | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const body: unknown = (result as { body?: unknown }).body;
  return body instanceof ReadableStream ? body : undefined;
}
