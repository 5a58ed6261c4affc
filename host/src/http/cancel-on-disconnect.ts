import type { ServerResponse } from 'node:http';

/**
 * Cancels the handler's response body stream when the client leaves before it ended, so an
 * endless stream (Server-Sent Events) stops producing. The library copies that stream into the
 * proxy response with `for await`, and does not stop when the response is closed; the stream is
 * locked by then, so it is cancelled through the reader the library's loop is given here.
 */
export function cancelBodyOnDisconnect(result: unknown, res: ServerResponse): void {
  const stream = bodyStreamOf(result);
  if (!stream) return;
  let reader: ReadableStreamDefaultReader<unknown> | undefined;
  const iterate = (): AsyncIterableIterator<unknown> => {
    const ownReader = stream.getReader();
    reader = ownReader;
    return {
      async next() {
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

/** The body of an `HttpResponse` or `HttpResponseInit`, when it is a web ReadableStream. */
function bodyStreamOf(result: unknown): ReadableStream<unknown> | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const body: unknown = (result as { body?: unknown }).body;
  return body instanceof ReadableStream ? body : undefined;
}
