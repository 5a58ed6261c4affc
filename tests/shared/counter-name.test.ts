import path from 'node:path';
import fc from 'fast-check';
import { isCounterName, parseCounterName } from '../../shared/counter-name';
import { CounterError } from '../../shared/errors';

const refusal = (raw: string) => {
  try {
    parseCounterName(raw);
  } catch (err) {
    if (err instanceof CounterError && err.kind === 'badRequest') return err.message;
    throw err;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
};

describe('counter names', () => {
  it('means the default counter when there is no name', () => {
    expect(parseCounterName(undefined)).toBeUndefined();
    expect(parseCounterName('')).toBeUndefined();
  });

  it.each(['a', '0', 'visits', 'page-home_2', 'x'.repeat(64), '9-lives', 'con1', 'com10'])(
    'accepts %s',
    (name) => expect(parseCounterName(name)).toBe(name),
  );

  it('folds upper-case letters to lower case, so both spellings are one counter', () => {
    expect(parseCounterName('Visits')).toBe('visits');
    expect(parseCounterName('PAGE-HOME_2')).toBe('page-home_2');
  });

  it.each([
    ['too long', 'x'.repeat(65)],
    ['starting with "-"', '-a'],
    ['starting with "_"', '_a'],
    ['a dot', 'a.b'],
    ['dot-dot', '..'],
    ['a slash', 'a/b'],
    ['a backslash', 'a\\b'],
    ['NUL', 'a\u0000'],
    ['a space', 'a b'],
    ['the Kelvin sign, which toLowerCase folds to "k"', '\u212Aelvin'],
    ['a dotted capital I, which toLowerCase turns into two characters', '\u0130d'],
    ['a Cyrillic look-alike', 'vi\u0455its'],
    ['a full-width letter', '\uFF41'],
  ])('refuses a name with %s, naming the rule', (_case, raw) => {
    expect(refusal(raw)).toMatch(/1 to 64 characters from a-z, 0-9, "-" and "_"/);
  });

  it.each(['con', 'PRN', 'aux', 'Nul', 'com1', 'COM9', 'lpt1', 'lpt9'])(
    'refuses the Windows device name %s',
    (raw) => expect(refusal(raw)).toMatch(/reserved device name/),
  );

  it('accepts only names that stay one plain directory below counters/', () => {
    const root = path.resolve('/data/counters');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (raw) => {
        let name: string | undefined;
        try {
          name = parseCounterName(raw);
        } catch (err) {
          expect(err).toBeInstanceOf(CounterError);
          return;
        }
        if (name === undefined) return;
        expect(path.dirname(path.resolve(root, name))).toBe(root);
        expect(isCounterName(name)).toBe(true);
        expect(name).toBe(raw.toLowerCase());
      }),
      { numRuns: 2000 },
    );
  });
});
