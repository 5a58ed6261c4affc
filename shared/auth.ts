import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { CounterError } from './errors';

// Hashing first gives both sides the same length, so the comparison's time says nothing
// about the key, not even its length.
const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Demands `Authorization: Bearer <key>` when `key` is configured (with no key the endpoint
 * is open); `alsoAccepted` keys open it too, so the write key can also read. Keys are
 * compared in constant time, all of them every time, and never logged.
 */
export function requireKey(
  request: HttpRequest,
  purpose: string,
  key: string | undefined,
  ...alsoAccepted: Array<string | undefined>
): void {
  if (key === undefined) return;
  const match = /^Bearer[ ]+(.+)$/i.exec(request.headers.get('authorization') ?? '');
  if (match) {
    const given = digest(match[1].trim());
    const accepted = [key, ...alsoAccepted].filter((k): k is string => k !== undefined);
    const matches = accepted.map((k) => timingSafeEqual(given, digest(k)));
    if (matches.includes(true)) return;
  }
  throw new CounterError(
    'unauthorized',
    `${purpose} needs the header "Authorization: Bearer <key>" with the configured key`,
  );
}

/** What an admin-key request does, for its refusals: "setting a counter", "PUT /set". */
export interface AdminAction {
  purpose: string;
  route: string;
}

/**
 * `PUT /set` and `DELETE /counters/{name}` can erase any count, so they are never open: with
 * no admin key configured they are disabled (403), and otherwise they need exactly that key
 * (401).
 */
export function requireAdminKey(
  request: HttpRequest,
  adminKey: string | undefined,
  { purpose, route }: AdminAction,
): void {
  if (adminKey === undefined) {
    throw new CounterError(
      'forbidden',
      `${purpose} is disabled; configure COUNTER_ADMIN_KEY to enable ${route}`,
    );
  }
  requireKey(request, purpose, adminKey);
}
