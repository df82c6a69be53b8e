import { describe, expect, it } from 'vitest';

import { citedNumbers, claimBefore, digitsValue, excerpt, locateClaim, parseCitations, type Piece } from '../src/lib/citations';

const t = (text: string): Piece => ({ kind: 'text', text });
const c = (n: number, text = String(n)): Piece => ({ kind: 'cite', n, text });

describe('citation parsing', () => {
  it('splits single citations out of the text', () => {
    // The brackets stay in the text (copying the answer keeps "[1]"); the number is the button.
    expect(parseCitations('The Harbour Trust paid [1]. Others objected [2].', 3)).toEqual([
      t('The Harbour Trust paid ['),
      c(1),
      t(']. Others objected ['),
      c(2),
      t('].'),
    ]);
  });

  it('splits a list [1, 2] into one button per number', () => {
    expect(parseCitations('Both [1, 2] say so.', 2)).toEqual([t('Both ['), c(1), t(', '), c(2), t('] say so.')]);
  });

  it('handles adjacent brackets [1][2]', () => {
    expect(parseCitations('x [1][2]', 2)).toEqual([t('x ['), c(1), t(']['), c(2), t(']')]);
  });

  it('accepts semicolons and the Arabic comma as separators', () => {
    expect(parseCitations('[1; 3]', 3)).toEqual([t('['), c(1), t('; '), c(3), t(']')]);
    expect(parseCitations('[١، ٢]', 2)).toEqual([t('['), c(1, '١'), t('، '), c(2, '٢'), t(']')]);
  });

  it('reads Arabic-Indic and Eastern Arabic-Indic digits', () => {
    expect(parseCitations('مولت [٣]', 3)).toEqual([t('مولت ['), c(3, '٣'), t(']')]);
    expect(parseCitations('[۲]', 2)).toEqual([t('['), c(2, '۲'), t(']')]);
    expect(digitsValue('١٢')).toBe(12);
  });

  it('leaves numbers that match no source as text', () => {
    expect(parseCitations('See [0] and [7].', 3)).toEqual([t('See [0] and [7].')]);
    expect(parseCitations('[2, 9]', 3)).toEqual([t('['), c(2), t(', 9]')]);
  });

  it('leaves non-numeric brackets alone', () => {
    expect(parseCitations('[a] [1a] [ ] [1,] [12345678901234567890]', 5)).toEqual([
      t('[a] [1a] [ ] [1,] [12345678901234567890]'),
    ]);
  });

  it('works with no sources at all', () => {
    expect(parseCitations('Nothing [1].', 0)).toEqual([t('Nothing [1].')]);
  });

  it('lists cited numbers once, in order', () => {
    expect(citedNumbers(parseCitations('[2] [1, 2] [3]', 3))).toEqual([2, 1, 3]);
  });

  it('returns nothing for empty text', () => {
    expect(parseCitations('', 3)).toEqual([]);
  });
});

describe('the claim behind a citation', () => {
  it('is the sentence just before it', () => {
    const pieces = parseCitations('The Trust paid. The Harbour Trust funded the demolition [1]. More [2].', 2);
    const first = pieces.findIndex((p) => p.kind === 'cite');
    expect(claimBefore(pieces, first)).toBe('The Harbour Trust funded the demolition');
  });

  it('skips the other numbers of the same bracket and earlier brackets', () => {
    const pieces = parseCitations('Lund leads the party [1][2, 3]', 3);
    const last = pieces.map((p, i) => (p.kind === 'cite' ? i : -1)).filter((i) => i >= 0).pop()!;
    expect(claimBefore(pieces, last)).toBe('Lund leads the party');
  });

  it('is found in the source regardless of case and line breaks', () => {
    const source = 'Crowds gathered.\n\nThe Harbour Trust funded the\ndemolition of the Saltmarket Fish Hall. It paid.';
    const at = locateClaim(source, 'the harbour trust funded the demolition of the Saltmarket Fish Hall');
    expect(at).not.toBeNull();
    expect(source.slice(at!.start, at!.end)).toBe('The Harbour Trust funded the\ndemolition of the Saltmarket Fish Hall');
  });

  it('is not found when paraphrased or too short', () => {
    expect(locateClaim('The Trust paid for it.', 'A foundation financed the work')).toBeNull();
    expect(locateClaim('It paid.', 'It paid')).toBeNull();
  });
});

describe('excerpts around a quote', () => {
  it('keeps the whole text when it is short', () => {
    expect(excerpt('one two three', 4, 7)).toEqual({ from: 0, to: 13, before: false, after: false });
  });

  it('cuts long text at word boundaries around the quote', () => {
    const text = `${'alpha '.repeat(50)}TARGET${' omega'.repeat(50)}`;
    const start = text.indexOf('TARGET');
    const e = excerpt(text, start, start + 6, 20);
    const shown = text.slice(e.from, e.to);
    expect(shown).toContain('TARGET');
    expect(shown.startsWith('alpha')).toBe(true);
    expect(shown.endsWith('omega')).toBe(true);
    expect(e.before && e.after).toBe(true);
  });
});
