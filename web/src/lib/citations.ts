/**
 * Citations in answer text: `[n]`, `[1, 2]`, `[1; 2]`, `[1][2]`, and the Arabic forms a
 * translated answer uses (`[١]`, `[١، ٢]`). The text is split into pieces so the UI can render
 * each valid number as a button; a number that matches no source (0, or beyond the source
 * count) stays plain text, as does anything in brackets that is not a list of numbers.
 */

export type Piece =
  | { kind: 'text'; text: string }
  /** `n` is the source number; `text` is the digits as written (`2`, `٢`). */
  | { kind: 'cite'; n: number; text: string };

const DIGITS = '0-9\u0660-\u0669\u06F0-\u06F9';
const SEPARATORS = ',;\u060C';
const BRACKET = new RegExp(
  `\\[\\s*[${DIGITS}]+(?:\\s*[${SEPARATORS}]\\s*[${DIGITS}]+)*\\s*\\]`,
  'g',
);
const NUMBER = new RegExp(`[${DIGITS}]+`, 'g');

/** The value of a run of ASCII, Arabic-Indic or Eastern Arabic-Indic digits. */
export function digitsValue(digits: string): number {
  let n = 0;
  for (const ch of digits) {
    const c = ch.codePointAt(0) ?? 0;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x660 && c <= 0x669) d = c - 0x660;
    else if (c >= 0x6f0 && c <= 0x6f9) d = c - 0x6f0;
    else return NaN;
    n = n * 10 + d;
  }
  return n;
}

function pushText(pieces: Piece[], text: string): void {
  if (text === '') return;
  const last = pieces[pieces.length - 1];
  if (last && last.kind === 'text') last.text += text;
  else pieces.push({ kind: 'text', text });
}

/** Split `text` into text and citation pieces; valid numbers are 1..`sources`. */
export function parseCitations(text: string, sources: number): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of text.matchAll(BRACKET)) {
    const start = match.index ?? 0;
    pushText(pieces, text.slice(last, start));
    const bracket = match[0];
    let inner = 0;
    for (const num of bracket.matchAll(NUMBER)) {
      const at = num.index ?? 0;
      pushText(pieces, bracket.slice(inner, at));
      const n = digitsValue(num[0]);
      if (Number.isSafeInteger(n) && n >= 1 && n <= sources) {
        pieces.push({ kind: 'cite', n, text: num[0] });
      } else {
        pushText(pieces, num[0]);
      }
      inner = at + num[0].length;
    }
    pushText(pieces, bracket.slice(inner));
    last = start + bracket.length;
  }
  pushText(pieces, text.slice(last));
  return pieces;
}

/** The distinct source numbers cited, in order of first citation. */
export function citedNumbers(pieces: Piece[]): number[] {
  const seen: number[] = [];
  for (const p of pieces) if (p.kind === 'cite' && !seen.includes(p.n)) seen.push(p.n);
  return seen;
}

/** Citation brackets, complete, for stripping them out of a claim. */
const ANY_BRACKET = new RegExp(`\\s*\\[[\\s${DIGITS}${SEPARATORS}]*\\]`, 'g');

/**
 * The claim a citation backs: the sentence just before piece `index` (citations and the open
 * bracket around it removed). "A paid. B objected [2]." → "B objected".
 */
export function claimBefore(pieces: Piece[], index: number): string {
  let before = '';
  for (let i = 0; i < index && i < pieces.length; i++) before += pieces[i]!.text;
  // Drop the unfinished bracket this citation sits in ("… [1, ") and earlier brackets.
  before = before.replace(new RegExp(`\\[[\\s${DIGITS}${SEPARATORS}]*$`), '').replace(ANY_BRACKET, '');
  const sentences = before.split(/(?<=[.!?؟。])\s+/);
  let claim = (sentences[sentences.length - 1] ?? '').trim();
  if (claim === '' && sentences.length > 1) claim = sentences[sentences.length - 2]!.trim();
  return claim.replace(/[\s.,;:!?؟،]+$/u, '');
}

/**
 * Where `claim` occurs in `source`, ignoring case and differences in white space; null if it
 * does not (a model's paraphrase) or is too short to be meaningful.
 */
export function locateClaim(source: string, claim: string): { start: number; end: number } | null {
  const words = claim.trim().split(/\s+/).filter(Boolean);
  if (words.join(' ').length < 12) return null;
  const pattern = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+'), 'iu');
  const m = pattern.exec(source);
  return m ? { start: m.index, end: m.index + m[0].length } : null;
}

/**
 * A window of `text` around `start..end`, widened by about `context` characters on each side
 * and cut at white space; `before`/`after` say whether text was left out there.
 */
export function excerpt(
  text: string,
  start: number,
  end: number,
  context = 160,
): { from: number; to: number; before: boolean; after: boolean } {
  let from = Math.max(0, start - context);
  let to = Math.min(text.length, end + context);
  if (from > 0) {
    const space = text.indexOf(' ', from);
    from = space === -1 || space >= start ? from : space + 1;
  }
  if (to < text.length) {
    const space = text.lastIndexOf(' ', to);
    to = space <= end ? to : space;
  }
  return { from, to, before: from > 0, after: to < text.length };
}
