import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { CounterError } from './errors';

// Hashing first gives both sides the same length, so the comparison's time says nothing
// about the key, not even its length.
const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Demands `Authorization: Bearer <key>` when a key is configured; with no key the
 * endpoint is open. The key is compared in constant time and never logged.
 */
export function requireKey(request: HttpRequest, key: string | undefined, purpose: string): void {
  if (key === undefined) return;
  const match = /^Bearer[ ]+(.+)$/i.exec(request.headers.get('authorization') ?? '');
  if (match && timingSafeEqual(digest(match[1].trim()), digest(key))) return;
  throw new CounterError(
    'unauthorized',
    `${purpose} needs the header "Authorization: Bearer <key>" with the configured key`,
  );
}
