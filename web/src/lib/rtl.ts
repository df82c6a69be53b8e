/**
 * Text direction. An Arabic answer often starts with a Latin name or a citation mark, so the
 * first strong character (what `dir="auto"` uses) is not enough: the direction is that of the
 * majority of strongly directional letters, ties going to the first one.
 */

// Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, Arabic supplements and
// presentation forms.
const RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]|[\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;
const STRONG = /[\p{L}]/u;

export type Direction = 'rtl' | 'ltr';

export function isRtlChar(ch: string): boolean {
  return RTL.test(ch);
}

export function textDirection(text: string): Direction {
  let rtl = 0;
  let ltr = 0;
  let first: Direction | undefined;
  for (const ch of text) {
    if (!STRONG.test(ch)) continue;
    const d: Direction = isRtlChar(ch) ? 'rtl' : 'ltr';
    if (d === 'rtl') rtl++;
    else ltr++;
    first ??= d;
  }
  if (rtl === ltr) return first ?? 'ltr';
  return rtl > ltr ? 'rtl' : 'ltr';
}

export function isRtl(text: string): boolean {
  return textDirection(text) === 'rtl';
}

/** Languages written right to left, by primary subtag. */
const RTL_LANGUAGES = new Set(['ar', 'he', 'fa', 'ur', 'ps', 'sd', 'ug', 'yi', 'dv', 'ckb']);

export function isRtlLanguage(tag: string | null | undefined): boolean {
  if (!tag) return false;
  return RTL_LANGUAGES.has(tag.split(/[-_]/)[0]!.toLowerCase());
}
