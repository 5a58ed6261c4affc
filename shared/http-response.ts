import type { ReadableStream } from 'node:stream/web';
import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { CounterError, type CounterErrorKind } from './errors';
import type { CounterEntry } from './store/engine';

const STATUS: Record<CounterErrorKind, number> = {
  badRequest: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  methodNotAllowed: 405,
  payloadTooLarge: 413,
  unsupportedMediaType: 415,
  overflow: 409,
  tooManyCounters: 507,
  tooManyWatchers: 503,
  storageUnavailable: 503,
};

// Values change on every write; no cache between client and counter may keep one.
const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
export const RETRY_AFTER_SECONDS = 1;

/** `200 {"value": N}`, written from the BigInt so values beyond 2^53 stay exact. */
export const valueResponse = (value: bigint): HttpResponseInit => ({
  status: 200,
  headers: JSON_HEADERS,
  body: `{"value":${value.toString()}}`,
});

/** `200 {"name": "visits", "value": N}`: a counter as `DELETE /counters/{name}` removed it. */
export const counterEntryResponse = (entry: CounterEntry): HttpResponseInit => ({
  status: 200,
  headers: JSON_HEADERS,
  body: entryJson(entry),
});

/** `200 {"counters": [{"name": ..., "value": N}, ...], "next": name | null}`, values exact. */
export const counterListResponse = (
  counters: readonly CounterEntry[],
  next: string | null,
): HttpResponseInit => ({
  status: 200,
  headers: JSON_HEADERS,
  body: `{"counters":[${counters.map(entryJson).join(',')}],"next":${JSON.stringify(next)}}`,
});

// Names are from the counter-name alphabet, so JSON.stringify only adds the quotes.
const entryJson = ({ name, value }: CounterEntry) =>
  `{"name":${JSON.stringify(name)},"value":${value.toString()}}`;

/** An SVG image that browsers and README renderers must fetch again at every view, and that
 * a browser never sniffs into anything but an image (badges are embedded on other sites). */
export const svgResponse = (svg: string): HttpResponseInit => ({
  status: 200,
  headers: {
    'Content-Type': 'image/svg+xml; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  },
  body: svg,
});

/**
 * A Server-Sent Events stream. Proxies such as nginx buffer responses unless told not to,
 * which would hold every event back until the buffer fills.
 */
export const eventStreamResponse = (body: ReadableStream<Uint8Array>): HttpResponseInit => ({
  status: 200,
  headers: {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
  },
  body,
});

export const jsonResponse = (status: number, body: object): HttpResponseInit => ({
  status,
  headers:
    status === 503 ? { ...JSON_HEADERS, 'Retry-After': String(RETRY_AFTER_SECONDS) } : JSON_HEADERS,
  body: JSON.stringify(body),
});

/**
 * The one place that turns an error into an answer. Expected errors carry their own
 * message; anything else is a bug, logged in full and answered without details.
 */
export function errorResponse(error: unknown, context: InvocationContext): HttpResponseInit {
  if (error instanceof CounterError) {
    const status = STATUS[error.kind];
    if (status >= 500) context.warn(`${status}: ${error.message}`);
    const response = jsonResponse(status, { error: error.message });
    if (error.kind === 'unauthorized') {
      response.headers = { ...JSON_HEADERS, 'WWW-Authenticate': 'Bearer realm="rusty-counter"' };
    }
    return response;
  }
  context.error('unexpected failure:', error);
  return jsonResponse(500, {
    error: 'internal error; the counter was not changed by this request',
  });
}
