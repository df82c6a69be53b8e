import { describe, expect, it } from 'vitest';

import { isRtl, isRtlLanguage, textDirection } from '../src/lib/rtl';

describe('RTL detection', () => {
  it('detects Arabic and Hebrew', () => {
    expect(isRtl('موّل صندوق الميناء هدم سوق السمك [1].')).toBe(true);
    expect(isRtl('שלום עולם')).toBe(true);
  });

  it('detects English as left to right', () => {
    expect(textDirection('The Harbour Trust funded the demolition [1].')).toBe('ltr');
  });

  it('goes by the majority, not the first letter', () => {
    expect(textDirection('Harbour Trust: موّل صندوق الميناء هدم سوق السمك في المدينة')).toBe('rtl');
    expect(textDirection('[1] موّل in the Harbour Trust annual report')).toBe('ltr');
  });

  it('breaks ties by the first strong letter and defaults to ltr', () => {
    expect(textDirection('ab سم')).toBe('ltr');
    expect(textDirection('سم ab')).toBe('rtl');
    expect(textDirection('123 [4] !')).toBe('ltr');
    expect(textDirection('')).toBe('ltr');
  });

  it('recognises Arabic presentation forms and Persian', () => {
    expect(isRtl('ﻣﺮﺣﺒﺎ')).toBe(true);
    expect(isRtl('سلام دنیا')).toBe(true);
  });

  it('knows right-to-left language tags', () => {
    expect(isRtlLanguage('ar')).toBe(true);
    expect(isRtlLanguage('ar-EG')).toBe(true);
    expect(isRtlLanguage('he')).toBe(true);
    expect(isRtlLanguage('fr')).toBe(false);
    expect(isRtlLanguage(null)).toBe(false);
  });
});
