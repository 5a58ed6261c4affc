/** Which browser origins may call the app, from `CORS_ALLOWED_ORIGINS` or `Host.CORS`. */
export interface CorsPolicy {
  readonly anyOrigin: boolean;
  readonly origins: ReadonlySet<string>;
  readonly allowCredentials: boolean;
}

/**
 * A comma-separated origin list (`*` for any) from the environment variable, else from
 * local.settings.json `Host.CORS`; undefined (no CORS headers at all) when both are empty.
 */
export function resolveCorsPolicy(
  fromEnv: string | undefined,
  fromLocalSettings: string | undefined,
  allowCredentials: boolean,
): CorsPolicy | undefined {
  const list = fromEnv?.trim() ? fromEnv : fromLocalSettings;
  const entries = (list ?? '')
    .split(',')
    .map((origin) => normalizeOrigin(origin))
    .filter((origin) => origin !== '');
  if (entries.length === 0) return undefined;
  return {
    anyOrigin: entries.includes('*'),
    origins: new Set(entries.filter((origin) => origin !== '*')),
    allowCredentials,
  };
}

/** Headers that let the browser read a response for `origin`, or undefined if it is not allowed. */
export function corsResponseHeaders(
  policy: CorsPolicy,
  origin: string,
): Record<string, string> | undefined {
  if (!policy.anyOrigin && !policy.origins.has(normalizeOrigin(origin))) return undefined;
  if (policy.anyOrigin && !policy.allowCredentials) return { 'access-control-allow-origin': '*' };
  // Browsers reject `*` with credentials, so the origin is echoed; caches must then vary by it.
  const headers: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (policy.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

/** Headers answering a preflight for `origin`: any method and request header, cached ten minutes. */
export function corsPreflightHeaders(
  policy: CorsPolicy,
  origin: string,
  requestMethod: string,
  requestHeaders: string | undefined,
): Record<string, string> | undefined {
  const allowed = corsResponseHeaders(policy, origin);
  if (!allowed) return undefined;
  const headers = {
    ...allowed,
    'access-control-allow-methods': requestMethod,
    'access-control-max-age': '600',
  };
  return requestHeaders ? { ...headers, 'access-control-allow-headers': requestHeaders } : headers;
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}
