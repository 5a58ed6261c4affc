import { ReadableStream } from 'node:stream/web';
import { encode, encodeComment } from 'eventsource-encoder';
import type { Watcher } from './watch-hub';

export interface EventStreamTiming {
  /** A `: heartbeat` comment follows this long a quiet spell, so proxies keep the connection. */
  heartbeatMs: number;
  /**
   * The stream ends after this long; EventSource clients reconnect by themselves and get the
   * current value first. Under the Functions library's HTTP streams the handler is never told
   * that a client went away, and the library keeps reading the stream regardless of
   * backpressure (azure-functions-nodejs-library issue #294): the end of the stream is what
   * frees the watcher of a client that left, and bounds what a stalled client can pile up.
   * An invocation also lasts as long as its stream, and must end before `functionTimeout`.
   */
  lifetimeMs: number;
  /** How long an EventSource client waits before it reconnects (the `retry:` field). */
  retryMs: number;
}

export const WATCH_TIMING: EventStreamTiming = {
  heartbeatMs: 15_000,
  lifetimeMs: 60_000,
  retryMs: 500,
};

const encoder = new TextEncoder();
const valueData = (value: bigint) => `{"value":${value.toString()}}`;

/**
 * The Server-Sent Events of one watcher, framed by eventsource-encoder. The stream is
 * pulled, not pushed: an event is made only when the reader asks for the next chunk, from the
 * latest value at that moment, so a slow reader is sent the latest value and never a backlog.
 */
export function eventStream(
  watcher: Watcher,
  timing: EventStreamTiming,
): ReadableStream<Uint8Array> {
  const endsAt = Date.now() + timing.lifetimeMs;
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // A pull must enqueue or close: with no queue (high-water mark 0) the stream would
        // not ask again, and the reader would wait for ever.
        for (;;) {
          const left = endsAt - Date.now();
          if (watcher.isClosed || left <= 0) {
            watcher.close();
            controller.close();
            return;
          }
          // A wait cut short by the end of the stream ends it, with no heartbeat first.
          const lastWait = left <= timing.heartbeatMs;
          const value = await watcher.next(started ? Math.min(timing.heartbeatMs, left) : 0);
          if (!started) {
            // The hub gave the watcher the current value before the stream was made.
            started = true;
            const data = value === undefined ? undefined : valueData(value);
            const first =
              data === undefined
                ? encode({ retry: timing.retryMs })
                : encode({ retry: timing.retryMs, data });
            controller.enqueue(encoder.encode(first));
            return;
          }
          if (value !== undefined) {
            controller.enqueue(encoder.encode(encode({ data: valueData(value) })));
            return;
          }
          if (!watcher.isClosed && !lastWait) {
            controller.enqueue(encoder.encode(encodeComment('heartbeat')));
            return;
          }
        }
      },
      cancel() {
        watcher.close();
      },
    },
    { highWaterMark: 0 },
  );
}
