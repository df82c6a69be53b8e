/**
 * Query-term highlighting for search hits. Terms are the query's words (letters, marks and
 * digits in any script, so Arabic works), minus common English function words; a term matches
 * case-insensitively at the start of a word, so "fund" marks the "Fund" of "Funded".
 */

export interface Segment {
  text: string;
  match: boolean;
}

const STOPWORDS = new Set([
  'a', 'an', 'the', 'of', 'to', 'in', 'on', 'at', 'for', 'and', 'or', 'is', 'are', 'was', 'were',
  'be', 'been', 'who', 'whom', 'what', 'which', 'how', 'why', 'when', 'where', 'did', 'does', 'do',
  'with', 'by', 'from', 'as', 'that', 'this', 'it', 'its', 'his', 'her', 'their', 'about', 'into',
  'between', 'has', 'have', 'had', 'any', 'there', 'he', 'she', 'they', 'them', 'me',
]);

const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/** The words of a query worth highlighting, longest first (so longer terms win overlaps). */
export function queryTerms(query: string): string[] {
  const words = query.match(WORD) ?? [];
  const terms = new Set<string>();
  for (const w of words) {
    const lower = w.toLowerCase();
    if (STOPWORDS.has(lower)) continue;
    // A single Latin letter or digit would light up half the text; one Arabic/CJK letter is
    // rarer but equally unhelpful.
    if ([...w].length < 2) continue;
    terms.add(lower);
  }
  return [...terms].sort((a, b) => b.length - a.length);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Split `text` into plain and matching segments for the query's terms. */
export function highlight(text: string, query: string): Segment[] {
  const terms = queryTerms(query);
  if (terms.length === 0 || text === '') return text === '' ? [] : [{ text, match: false }];
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{M}\\p{N}])(?:${terms.map(escapeRegExp).join('|')})`,
    'giu',
  );
  const segments: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    const start = m.index ?? 0;
    if (start > last) segments.push({ text: text.slice(last, start), match: false });
    segments.push({ text: m[0], match: true });
    last = start + m[0].length;
  }
  if (last < text.length) segments.push({ text: text.slice(last), match: false });
  return segments;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** The same highlighting as an HTML string: text escaped, matches in `<mark>`. */
export function highlightHtml(text: string, query: string): string {
  return highlight(text, query)
    .map((s) => (s.match ? `<mark>${escapeHtml(s.text)}</mark>` : escapeHtml(s.text)))
    .join('');
}
