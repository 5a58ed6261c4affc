import type * as BadgeMaker from 'badge-maker';
import { badRequest, CounterError } from './errors';

/**
 * badge-maker, loaded at the first badge: its font-width tables add about 4 MB to a process,
 * and many never draw a badge.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const badgeMaker = (): typeof BadgeMaker => require('badge-maker') as typeof BadgeMaker;

/** The query parameters of `GET /badge/{name?}`, shared by the parser and the OpenAPI document. */
export const BADGE_STYLES = ['flat', 'flat-square', 'plastic', 'for-the-badge', 'social'] as const;
export type BadgeStyle = (typeof BADGE_STYLES)[number];
/** badge-maker's own colour names and their aliases. */
export const BADGE_COLOR_NAMES: readonly string[] = [
  'brightgreen',
  'green',
  'yellowgreen',
  'yellow',
  'orange',
  'red',
  'blue',
  'grey',
  'gray',
  'lightgrey',
  'lightgray',
  'success',
  'important',
  'critical',
  'informational',
  'inactive',
];
export const BADGE_HEX_COLOR_PATTERN = '^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$';
export const BADGE_LABEL_MAX_LENGTH = 64;
const HEX_COLOR = new RegExp(BADGE_HEX_COLOR_PATTERN);
// Control characters cannot be drawn; badge-maker escapes everything else for XML.
const hasControlCharacter = (text: string) =>
  [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

export interface BadgeOptions {
  label: string;
  color: string;
  style: BadgeStyle;
}

/**
 * `label`, `color` and `style` from the query. badge-maker quietly draws its default colour
 * for one it does not know, so colours are checked here: a typo gets a 400, not a grey badge.
 */
export function readBadgeOptions(query: URLSearchParams, defaultLabel: string): BadgeOptions {
  const label = query.get('label') ?? defaultLabel;
  if (label.length > BADGE_LABEL_MAX_LENGTH || hasControlCharacter(label)) {
    throw badRequest(
      `label must be at most ${BADGE_LABEL_MAX_LENGTH} characters without control characters`,
    );
  }
  const color = query.get('color') ?? 'blue';
  if (!BADGE_COLOR_NAMES.includes(color) && !HEX_COLOR.test(color)) {
    throw badRequest(
      `color must be one of ${BADGE_COLOR_NAMES.join(', ')} or a hex colour such as 4c1 or ff8800; got ${JSON.stringify(color.slice(0, 20))}`,
    );
  }
  const style = query.get('style') ?? 'flat';
  if (!isBadgeStyle(style)) {
    throw badRequest(
      `style must be one of ${BADGE_STYLES.join(', ')}; got ${JSON.stringify(style.slice(0, 20))}`,
    );
  }
  return { label, color: color.replace(/^#/, ''), style };
}

/**
 * True when the request asks to count a hit (`?hit=1`). A GET that changes state must be
 * opted into, so without COUNTER_PUBLIC_HITS any `hit` parameter is refused rather than ignored:
 * a badge that silently stopped counting would look like a site nobody visits.
 */
export function wantsHit(query: URLSearchParams, publicHits: boolean): boolean {
  const hit = query.get('hit');
  if (hit === null) return false;
  if (!publicHits) {
    throw new CounterError(
      'forbidden',
      'counting hits with ?hit=1 is disabled; set COUNTER_PUBLIC_HITS=true to let badges count visits',
    );
  }
  if (hit !== '1') throw badRequest(`hit must be 1 (count one visit); got ${JSON.stringify(hit)}`);
  return true;
}

/** The badge's SVG: the label on the left, the value on the right. */
export const drawBadge = (value: bigint, { label, color, style }: BadgeOptions): string =>
  badgeMaker().makeBadge({ label, message: value.toString(), color, style });

const isBadgeStyle = (style: string): style is BadgeStyle =>
  (BADGE_STYLES as readonly string[]).includes(style);
