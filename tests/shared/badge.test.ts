import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { drawBadge, readBadgeOptions, wantsHit } from '../../shared/badge';
import { CounterError } from '../../shared/errors';

const query = (text: string) => new URLSearchParams(text);
const kindOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof CounterError ? error.kind : 'not a CounterError';
  }
  return undefined;
};

describe('readBadgeOptions', () => {
  it('defaults to the given label, blue and flat', () => {
    expect(readBadgeOptions(query(''), 'visits')).toEqual({
      label: 'visits',
      color: 'blue',
      style: 'flat',
    });
  });

  it('takes a label, a named or hex colour (with or without #) and any badge-maker style', () => {
    expect(
      readBadgeOptions(query('label=page views&color=brightgreen&style=for-the-badge'), 'x'),
    ).toEqual({ label: 'page views', color: 'brightgreen', style: 'for-the-badge' });
    expect(readBadgeOptions(query('color=4c1'), 'x').color).toBe('4c1');
    expect(readBadgeOptions(query('color=%23FF8800'), 'x').color).toBe('FF8800');
    expect(readBadgeOptions(query('label='), 'x').label).toBe('');
  });

  it.each([
    ['an unknown colour', 'color=purplish'],
    ['a hex colour of the wrong length', 'color=12345'],
    ['CSS syntax badge-maker would not draw as asked', 'color=rgb(1,2,3)'],
    ['an unknown style', 'style=round'],
    ['a label longer than 64 characters', `label=${'x'.repeat(65)}`],
    ['a label with a control character', 'label=a%0Ab'],
  ])('refuses %s with a bad request', (_what, text) => {
    expect(kindOf(() => readBadgeOptions(query(text), 'x'))).toBe('badRequest');
  });
});

describe('wantsHit', () => {
  it('is false without a hit parameter, whatever the setting', () => {
    expect(wantsHit(query('label=a'), false)).toBe(false);
    expect(wantsHit(query('label=a'), true)).toBe(false);
  });

  it('is true for hit=1 when public hits are on', () => {
    expect(wantsHit(query('hit=1'), true)).toBe(true);
  });

  it('forbids any hit parameter when public hits are off', () => {
    expect(kindOf(() => wantsHit(query('hit=1'), false))).toBe('forbidden');
    expect(kindOf(() => wantsHit(query('hit=0'), false))).toBe('forbidden');
  });

  it('refuses a hit other than 1 when public hits are on', () => {
    expect(kindOf(() => wantsHit(query('hit=2'), true))).toBe('badRequest');
    expect(kindOf(() => wantsHit(query('hit='), true))).toBe('badRequest');
  });
});

describe('drawBadge', () => {
  const texts = (svg: string): string[] => {
    const found: string[] = [];
    const walk = (node: unknown): void => {
      if (typeof node === 'string') found.push(node);
      else if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === 'object' && node !== null) Object.values(node).forEach(walk);
    };
    walk(new XMLParser({ ignoreAttributes: true }).parse(svg));
    return found;
  };

  it('draws well-formed SVG holding the label and the exact value, also beyond 2^53', () => {
    const svg = drawBadge(9007199254740993n, { label: 'visits', color: 'blue', style: 'flat' });
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(texts(svg)).toEqual(expect.arrayContaining(['visits', '9007199254740993']));
  });

  it('escapes a label that looks like markup, so the SVG stays well-formed', () => {
    const svg = drawBadge(-7n, { label: '<b>&"x"', color: 'e05d44', style: 'social' });
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('-7');
  });

  it.each(['flat', 'flat-square', 'plastic', 'for-the-badge', 'social'] as const)(
    'draws the %s style',
    (style) => {
      expect(XMLValidator.validate(drawBadge(42n, { label: 'n', color: 'red', style }))).toBe(true);
    },
  );
});
