import { serialize, type CookieSerializeOptions } from 'cookie';
import type { RpcHttpCookie } from '../core/core-types';

const SAME_SITE_ATTRIBUTES: Record<string, CookieSerializeOptions['sameSite']> = {
  lax: 'lax',
  strict: 'strict',
  // The library sends `none` when the app set no SameSite, and `explicitNone` for "None".
  explicitNone: 'none',
};

/**
 * One `Set-Cookie` header value for a cookie of an RPC HTTP response, written by `cookie`
 * (the package `@azure/functions` itself uses) rather than by hand: it percent-encodes the
 * value, so no value can break the header, and throws on a name that is not a cookie name.
 */
export function toSetCookieHeader(cookie: RpcHttpCookie): string {
  const expiresSeconds = cookie.expires?.value?.seconds;
  const maxAge = cookie.maxAge?.value;
  return serialize(cookie.name ?? '', cookie.value ?? '', {
    domain: cookie.domain?.value || undefined,
    path: cookie.path?.value || undefined,
    expires: typeof expiresSeconds === 'number' ? new Date(expiresSeconds * 1000) : undefined,
    maxAge: typeof maxAge === 'number' ? Math.trunc(maxAge) : undefined,
    secure: cookie.secure?.value ?? undefined,
    httpOnly: cookie.httpOnly?.value ?? undefined,
    sameSite: cookie.sameSite ? SAME_SITE_ATTRIBUTES[cookie.sameSite] : undefined,
  });
}
