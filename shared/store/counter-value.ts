/** The counter's range and text format, shared by the store and the request parser. */
export const MIN_VALUE = -(2n ** 63n);
export const MAX_VALUE = 2n ** 63n - 1n;

export const isInRange = (value: bigint): boolean => value >= MIN_VALUE && value <= MAX_VALUE;

const DECIMAL = /^-?[0-9]+$/;
// The SPEC allows surrounding ASCII whitespace only; String#trim would also accept
// Unicode spaces such as U+00A0, which must count as corruption.
const ASCII_WHITESPACE_AROUND = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;

export type Parsed = { ok: true; value: bigint } | { ok: false; reason: string };

/** Parses the text of `data.bin`/`backup.bin`: ASCII decimal in the signed 64-bit range. */
export function parseStoredValue(text: string): Parsed {
  const digits = text.replace(ASCII_WHITESPACE_AROUND, '');
  if (digits === '') return { ok: false, reason: 'it is empty' };
  if (!DECIMAL.test(digits)) return { ok: false, reason: 'it is not a decimal integer' };
  const value = BigInt(digits);
  if (!isInRange(value)) return { ok: false, reason: 'it is outside the signed 64-bit range' };
  return { ok: true, value };
}
