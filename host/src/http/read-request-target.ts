import type { IncomingMessage } from 'node:http';

/** The URL a request names, or why it is refused before any function sees it. */
export type RequestTarget = { url: URL } | { status: 400 | 431 | 505; message: string };

/** Kestrel's `MaxRequestHeaderCount`. */
export const MAX_REQUEST_HEADERS = 100;

// RFC 3986 host [":" port]: an IP literal in brackets, or a reg-name / IPv4 address made of
// unreserved characters, sub-delims and percent-escapes. Nothing here can end the authority
// (`/ \ ? # @`), so the path of the URL built from it is the request target's, as Kestrel routes.
const HOST_HEADER =
  /^(?:\[[0-9A-Za-z\-._~!$&'()*+,;=:]+\]|(?:[0-9A-Za-z\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;

/**
 * Reads the request line's target and the Host header as Kestrel does: HTTP/1.0 and 1.1 only
 * (505 otherwise); at most 100 header fields (431 otherwise, where Node would drop the rest
 * silently); one Host, well-formed, required in HTTP/1.1; an absolute-form target
 * (`GET http://x/get`) names its own authority and is routed by its path, and only the http
 * and https schemes are taken. The function reached is always the one the target's path names.
 */
export function readRequestTarget(req: IncomingMessage): RequestTarget {
  if (req.httpVersionMajor !== 1 || (req.httpVersionMinor !== 0 && req.httpVersionMinor !== 1)) {
    return { status: 505, message: `HTTP/${req.httpVersion} is not supported; use HTTP/1.1` };
  }
  if (req.rawHeaders.length / 2 > MAX_REQUEST_HEADERS) {
    return {
      status: 431,
      message: `the request has more than ${MAX_REQUEST_HEADERS} header fields`,
    };
  }
  const hosts = hostHeadersOf(req);
  if (hosts.length > 1)
    return { status: 400, message: 'the request has more than one Host header' };
  const host = hosts[0];
  if (host === undefined && req.httpVersionMinor === 1) {
    return { status: 400, message: 'an HTTP/1.1 request needs a Host header' };
  }
  if (host !== undefined && !HOST_HEADER.test(host)) {
    return {
      status: 400,
      message: 'the Host header is not a host name or address with an optional port',
    };
  }
  const target = req.url ?? '/';
  try {
    if (target.startsWith('/') || target === '*') {
      const origin = `http://${host || localAddressOf(req)}`;
      // Appended rather than resolved, so that a path such as `//x` stays a path.
      return { url: target === '*' ? new URL('/*', origin) : new URL(`${origin}${target}`) };
    }
    const url = new URL(target);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { status: 400, message: 'an absolute request target must use http or https' };
    }
    return { url };
  } catch {
    return { status: 400, message: 'the request target or Host header is malformed' };
  }
}

function hostHeadersOf(req: IncomingMessage): string[] {
  const values: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].length === 4 && req.rawHeaders[i].toLowerCase() === 'host') {
      values.push(req.rawHeaders[i + 1]);
    }
  }
  return values;
}

/** The address the client connected to, for the URL of an HTTP/1.0 request without Host. */
function localAddressOf(req: IncomingMessage): string {
  const { localAddress = '127.0.0.1', localPort } = req.socket;
  return `${localAddress.includes(':') ? `[${localAddress}]` : localAddress}:${localPort}`;
}
