import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createParser } from 'eventsource-parser';

/** One thing read from a Server-Sent Events stream, as a client's parser sees it. */
export type SseItem =
  | { kind: 'value'; value: string }
  | { kind: 'comment'; text: string }
  | { kind: 'retry'; ms: number };

/**
 * Reads a Server-Sent Events stream chunk by chunk through eventsource-parser (the parser of
 * the `eventsource` client), so framing is checked by a real client's rules, not ours. Values
 * are kept as the text of `value` in each event's JSON, so digits beyond 2^53 stay exact.
 */
export class SseReader {
  private readonly items: SseItem[] = [];
  private readonly parser = createParser({
    onEvent: (event) => {
      const match = /^\{"value":(-?[0-9]+)\}$/.exec(event.data);
      if (!match) throw new Error(`an event whose data is not {"value": N}: ${event.data}`);
      if (event.event !== undefined) throw new Error(`an event of type ${event.event}`);
      this.items.push({ kind: 'value', value: match[1] });
    },
    onComment: (text) => this.items.push({ kind: 'comment', text: text.trim() }),
    onRetry: (ms) => this.items.push({ kind: 'retry', ms }),
  });
  private readonly decoder = new TextDecoder();
  private ended = false;

  constructor(private readonly chunks: AsyncIterator<Uint8Array>) {}

  static of(source: AsyncIterable<Uint8Array>): SseReader {
    return new SseReader(source[Symbol.asyncIterator]());
  }

  /** Whether the stream has ended (after `next` found no more). */
  get done(): boolean {
    return this.ended;
  }

  /** The next item, reading more of the stream as needed; undefined once it has ended. */
  async next(timeoutMs = 5_000): Promise<SseItem | undefined> {
    while (this.items.length === 0) {
      if (this.ended) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no Server-Sent Event within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        const chunk = await Promise.race([this.chunks.next(), timeout]);
        if (chunk.done) this.ended = true;
        else this.parser.feed(this.decoder.decode(chunk.value, { stream: true }));
      } finally {
        clearTimeout(timer);
      }
    }
    return this.items.shift();
  }

  /** The next value event, skipping comments and retry fields. */
  async nextValue(timeoutMs = 5_000): Promise<string> {
    for (;;) {
      const item = await this.next(timeoutMs);
      if (item === undefined) throw new Error('the stream ended before the next value');
      if (item.kind === 'value') return item.value;
    }
  }

  /** Stops reading (the client goes away). */
  async close(): Promise<void> {
    await this.chunks.return?.();
  }
}

export interface OpenedStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** The events, when the answer is 200; the body text otherwise (see `text`). */
  sse: SseReader;
  /** The whole body of an answer other than 200 (an error in JSON). */
  text: string;
  /** Ends the connection, as a client that goes away. */
  close(): void;
}

/** GET `url` on its own connection and read its answer as a stream of events. */
export function openEventStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<OpenedStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      headers: { accept: 'text/event-stream', ...headers },
      agent: false,
    });
    // Only so that a host that never answers fails the test before Jest's timeout: a thousand
    // streams opened at once on a starved machine (two CPU hogs beside the suite) queue in the
    // host's listen backlog, 511 as Kestrel's 512, and some waited over 10 s for their answer.
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${url} within 30 s`)));
    req.on('error', reject);
    req.on('response', (res) => {
      req.setTimeout(0);
      const close = () => res.destroy();
      const opened = { status: res.statusCode ?? 0, headers: res.headers, close };
      if (res.statusCode === 200) {
        resolve({ ...opened, sse: SseReader.of(res), text: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          ...opened,
          sse: SseReader.of(noEvents()),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end();
  });
}

async function* noEvents(): AsyncGenerator<Uint8Array> {}
