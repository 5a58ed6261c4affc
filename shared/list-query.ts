import { NAME_MAX_LENGTH, NAME_RULE, parseCounterName } from './counter-name';
import { badRequest } from './errors';
import type { ListQuery } from './store/engine';

/** The page size of `GET /counters`, shared by the parser below and the OpenAPI document. */
export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1000;
// A prefix is the start of a name: the name's alphabet, but any length up to a name's and no
// device-name refusal ("con" starts "console").
export const PREFIX_PATTERN = `^[a-z0-9][a-z0-9_-]{0,${NAME_MAX_LENGTH - 1}}$`;
const VALID_PREFIX = new RegExp(PREFIX_PATTERN);

/**
 * The query of `GET /counters`: `?limit=` (1 to 1000, default 100), `?after=<name>` (the
 * `next` of the previous page) and `?prefix=`. Upper case is folded as in names, so a prefix
 * finds the counters its spelling would name.
 */
export function parseListQuery(query: URLSearchParams): ListQuery {
  for (const field of ['limit', 'after', 'prefix']) {
    if (query.getAll(field).length > 1) throw badRequest(`give ?${field}= at most once`);
  }
  return {
    limit: parseLimit(query.get('limit')),
    after: parseAfter(query.get('after')),
    prefix: parsePrefix(query.get('prefix')),
  };
}

function parseLimit(raw: string | null): number {
  if (raw === null) return LIST_LIMIT_DEFAULT;
  const limit = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : 0;
  if (limit < 1 || limit > LIST_LIMIT_MAX) {
    throw badRequest(
      `?limit= must be a whole number from 1 to ${LIST_LIMIT_MAX}; got ${JSON.stringify(raw.slice(0, 20))}`,
    );
  }
  return limit;
}

function parseAfter(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  if (raw === '') throw badRequest(`?after= must be a counter name (${NAME_RULE}); got ""`);
  return parseCounterName(raw);
}

function parsePrefix(raw: string | null): string | undefined {
  if (raw === null || raw === '') return undefined;
  const prefix = raw.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  if (!VALID_PREFIX.test(prefix)) {
    throw badRequest(
      `?prefix= must be the start of a counter name (${NAME_RULE}); got ${JSON.stringify(raw.slice(0, NAME_MAX_LENGTH + 1))}`,
    );
  }
  return prefix;
}
