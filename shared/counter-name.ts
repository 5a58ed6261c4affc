import { badRequest } from './errors';

/** The rules of a counter name, shared by the parser below and the OpenAPI document. */
export const NAME_MAX_LENGTH = 64;
export const NAME_PATTERN = `^[a-z0-9][a-z0-9_-]{0,${NAME_MAX_LENGTH - 1}}$`;
export const RESERVED_NAMES: readonly string[] = [
  'con',
  'prn',
  'aux',
  'nul',
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`com${n}`, `lpt${n}`]),
];
export const NAME_RULE =
  'a counter name is 1 to 64 characters from a-z, 0-9, "-" and "_", starting with a letter or digit';

const VALID = new RegExp(NAME_PATTERN);

/**
 * The counter a request names: undefined for the default counter (no name), else the name
 * folded to lower case. Only ASCII A-Z is folded: String#toLowerCase would turn look-alikes
 * such as the Kelvin sign (U+212A) into "k" and let two spellings share one counter's files.
 * The alphabet has no ".", "/", "\\" or NUL, so a valid name is always one plain directory
 * below `counters/`, whatever encoding the request used to spell it.
 */
export function parseCounterName(raw: string | undefined): string | undefined {
  // The Functions host passes an absent optional route parameter as undefined or "".
  if (raw === undefined || raw === '') return undefined;
  const name = raw.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  if (!VALID.test(name)) {
    throw badRequest(`${NAME_RULE}; got ${JSON.stringify(raw.slice(0, NAME_MAX_LENGTH + 1))}`);
  }
  if (RESERVED_NAMES.includes(name)) {
    throw badRequest(
      `"${name}" is a reserved device name on Windows and cannot name a counter; choose another (${NAME_RULE})`,
    );
  }
  return name;
}

/** True for a directory name under `counters/` that a counter may have. */
export const isCounterName = (name: string): boolean =>
  VALID.test(name) && !RESERVED_NAMES.includes(name);
