import type { RpcHttpCookie } from '../core/core-types';

const sameSiteAttributes: Record<string, string | undefined> = {
  lax: 'Lax',
  strict: 'Strict',
  // The library sends `none` when the app set no SameSite, and `explicitNone` for "None".
  explicitNone: 'None',
};

/** One `Set-Cookie` header value for a cookie of an RPC HTTP response. */
export function toSetCookieHeader(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  const expiresSeconds = cookie.expires?.value?.seconds;
  if (typeof expiresSeconds === 'number')
    parts.push(`Expires=${new Date(expiresSeconds * 1000).toUTCString()}`);
  const maxAge = cookie.maxAge?.value;
  if (typeof maxAge === 'number') parts.push(`Max-Age=${Math.trunc(maxAge)}`);
  if (cookie.secure?.value) parts.push('Secure');
  if (cookie.httpOnly?.value) parts.push('HttpOnly');
  const sameSite = cookie.sameSite ? sameSiteAttributes[cookie.sameSite] : undefined;
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  return parts.join('; ');
}
