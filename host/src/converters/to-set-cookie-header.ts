import { serialize } from 'cookie';
import type { RpcHttpCookie } from '../core/core-types';

const SAME_SITE_ATTRIBUTES: Record<string, string | undefined> = {
  lax: 'lax',
  strict: 'strict',
  // The library sends `none` when the app set no SameSite, and `explicitNone` for "None".
  explicitNone: 'none',
};

// An attribute value may hold any visible character or space but `;`, which would end it.
const ATTRIBUTE_VALUE = /^[\u0020-\u003A\u003C-\u007E]*$/;

/**
 * One `Set-Cookie` header value for a cookie of an RPC HTTP response, written as the
 * Functions host writes it (ASP.NET Core's `Response.Cookies.Append`): the value escaped as
 * .NET's `Uri.EscapeDataString` does, then `expires`, `max-age`, `domain`, `path` (`/` unless
 * the app chose one), `secure`, `samesite` and `httponly`, in that order and in lower case.
 * `cookie` (the package `@azure/functions` itself uses) writes `name=value`, refusing a name
 * that is not a cookie name; it cannot write the attributes in ASP.NET's order and case.
 * Throws on a name or attribute value that would break the header.
 */
export function toSetCookieHeader(cookie: RpcHttpCookie): string {
  const parts = [serialize(cookie.name ?? '', cookie.value ?? '', { encode: escapeDataString })];
  const expiresSeconds = cookie.expires?.value?.seconds;
  if (typeof expiresSeconds === 'number') {
    parts.push(`expires=${new Date(expiresSeconds * 1000).toUTCString()}`);
  }
  const maxAge = cookie.maxAge?.value;
  if (typeof maxAge === 'number') parts.push(`max-age=${Math.trunc(maxAge)}`);
  const domain = cookie.domain?.value;
  if (domain) parts.push(`domain=${attributeValue('domain', domain)}`);
  parts.push(`path=${attributeValue('path', cookie.path?.value || '/')}`);
  if (cookie.secure?.value) parts.push('secure');
  const sameSite = cookie.sameSite ? SAME_SITE_ATTRIBUTES[cookie.sameSite] : undefined;
  if (sameSite) parts.push(`samesite=${sameSite}`);
  if (cookie.httpOnly?.value) parts.push('httponly');
  return parts.join('; ');
}

/** .NET's `Uri.EscapeDataString`: everything but letters, digits and `-._~` percent-encoded. */
function escapeDataString(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function attributeValue(attribute: string, value: string): string {
  if (!ATTRIBUTE_VALUE.test(value)) throw new TypeError(`cookie ${attribute} is invalid`);
  return value;
}
