import type { OutgoingHttpHeaders } from 'node:http';
import type { RpcHttpData, RpcTypedData } from '../core/core-types';
import { toSetCookieHeader } from './to-set-cookie-header';

export interface HttpAnswer {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Uint8Array;
}

/**
 * The answer to send for the `http` data the library produced from the handler's
 * `HttpResponseInit`. An invalid status code is an error of the app, reported by throwing.
 */
export function fromRpcHttpResponse(http: RpcHttpData): HttpAnswer {
  const status =
    http.statusCode === undefined || http.statusCode === null ? 200 : Number(http.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new Error(`the function answered with the invalid HTTP status "${http.statusCode}"`);
  }

  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(http.headers ?? {})) headers[name] = value;
  if (http.cookies && http.cookies.length > 0) {
    const existing = headers['set-cookie'];
    const fromHeaders = existing === undefined ? [] : [String(existing)];
    headers['set-cookie'] = [...fromHeaders, ...http.cookies.map(toSetCookieHeader)];
  }
  return { status, headers, body: fromRpcBody(http.body) };
}

function fromRpcBody(body: RpcTypedData | null | undefined): Uint8Array {
  if (!body) return new Uint8Array(0);
  if (body.bytes) return body.bytes;
  if (typeof body.string === 'string') return Buffer.from(body.string);
  if (typeof body.json === 'string') return Buffer.from(body.json);
  if (typeof body.int === 'number') return Buffer.from(String(body.int));
  if (typeof body.double === 'number') return Buffer.from(String(body.double));
  return new Uint8Array(0);
}
