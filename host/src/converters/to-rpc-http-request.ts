import type { IncomingHttpHeaders } from 'node:http';
import type { RpcHttpData, RpcTypedData } from '../core/core-types';

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

/**
 * The trigger metadata the Functions host sends with an HTTP invocation: headers and query as
 * JSON, each route parameter as a string. In streaming mode the library takes the request's
 * headers and route parameters from here, since the forwarded request carries only the body.
 */
export function toRpcHttpTriggerMetadata(
  url: URL,
  headers: IncomingHttpHeaders,
  params: Record<string, string>,
): Record<string, RpcTypedData> {
  const metadata: Record<string, RpcTypedData> = {};
  for (const [name, value] of Object.entries(params)) metadata[name] = { string: value };
  metadata.Headers = { json: JSON.stringify(toRpcHeaders(headers)) };
  metadata.Query = { json: JSON.stringify(toRpcQuery(url.searchParams)) };
  return metadata;
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
