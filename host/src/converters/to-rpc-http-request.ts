import type { IncomingHttpHeaders } from 'node:http';
import type { RpcHttpData } from '../core/core-types';

/**
 * The request in the shape the Functions host sends it to the Node.js worker: plain
 * header, query and route-parameter maps (repeated query keys joined by commas, as the
 * host does) and the raw body bytes. The library builds its `HttpRequest` from this.
 */
export function toRpcHttpRequest(
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  params: Record<string, string>,
  body: Buffer,
): RpcHttpData {
  return {
    method,
    url: url.href,
    headers: toRpcHeaders(headers),
    query: toRpcQuery(url.searchParams),
    params,
    body: { bytes: body },
  };
}

function toRpcHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) result[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

function toRpcQuery(searchParams: URLSearchParams): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of searchParams) {
    const existing = result[name];
    result[name] = existing === undefined ? value : `${existing},${value}`;
  }
  return result;
}
