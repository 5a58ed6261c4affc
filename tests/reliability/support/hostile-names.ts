import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';

// Counter names an attacker would try, as they appear in a request path (already encoded):
// traversals in every encoding, look-alikes that case folding could merge, device names,
// case pairs that must be one counter, names just over the limit, and random bytes.

const TRAVERSALS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E',
  '.%2e',
  '%2e.',
  '..%2f..%2foutside',
  '..%2F..%2Foutside',
  '..%5c..%5coutside',
  '%2e%2e%2f%2e%2e%2foutside',
  '%252e%252e%252f',
  '%c0%ae%c0%ae%c0%af',
  '%e0%80%ae%e0%80%ae',
  '..%00',
  'a%00b',
  '%00',
  'counters%2f..%2f..%2foutside',
  '%2foutside',
  '~',
  '%7e',
  'a%2f..',
  '....%2f%2f',
];
const LOOK_ALIKES = [
  '%E2%84%AAelvin', // Kelvin sign
  '%C4%B0d', // capital I with dot
  'vi%D1%95its', // Cyrillic dze
  '%EF%BD%81', // full-width a
  'a%CC%81', // combining accent
  '%E2%80%8Ba', // zero-width space
];
const RESERVED = ['con', 'CON', 'prn', 'aux', 'nul', 'Nul', 'com1', 'COM9', 'lpt1', 'lpt9'];
const CASE_PAIRS = ['Pair', 'pAIR', 'PAIR', 'pair'];

export const hostileName = fc.oneof(
  fc.constantFrom(...TRAVERSALS, ...LOOK_ALIKES, ...RESERVED, ...CASE_PAIRS),
  fc.stringMatching(/^[A-Za-z0-9_-]{60,70}$/),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc
    .array(fc.constantFrom('..', '%2e%2e', '.', 'x', '%2f', '%5c', '/', '%00'), {
      minLength: 1,
      maxLength: 6,
    })
    .map((parts) => parts.join('')),
);

/** Every file and directory under `dir`, relative, with sizes of files. */
export function snapshot(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    const name = `${prefix}${entry.name}`;
    return entry.isDirectory()
      ? [`${name}/`, ...snapshot(full, `${name}/`)]
      : [`${name} ${statSync(full).size}`];
  });
}
