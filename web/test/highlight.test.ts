import { describe, expect, it } from 'vitest';

import { escapeHtml, highlight, highlightHtml, queryTerms } from '../src/lib/highlight';

describe('search-term highlighting', () => {
  it('marks terms case-insensitively', () => {
    expect(highlightHtml('The HARBOUR Trust and the harbour', 'harbour')).toBe(
      'The <mark>HARBOUR</mark> Trust and the <mark>harbour</mark>',
    );
  });

  it('escapes HTML in the text and in matches', () => {
    expect(highlightHtml('<script>alert("x")</script> & Trust', 'trust')).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <mark>Trust</mark>',
    );
    expect(highlightHtml('a <b>bold</b> claim', 'bold')).toBe('a &lt;b&gt;<mark>bold</mark>&lt;/b&gt; claim');
  });

  it('treats regex characters in the query literally', () => {
    expect(highlightHtml('a.b (Trust) trusty', '.*trust (')).toBe('a.b (<mark>Trust</mark>) <mark>trust</mark>y');
    expect(highlight('a+b', 'a+b (c')).toEqual([{ text: 'a+b', match: false }]);
  });

  it('matches at word starts only, so a term marks the start of a longer word', () => {
    expect(highlightHtml('funded refunded', 'fund')).toBe('<mark>fund</mark>ed refunded');
  });

  it('ignores stopwords and single letters', () => {
    expect(queryTerms('Who funded the demolition of a hall?')).toEqual(['demolition', 'funded', 'hall']);
    expect(highlightHtml('the hall', 'the')).toBe('the hall');
  });

  it('highlights Arabic', () => {
    const text = 'موّل صندوق الميناء هدم سوق السمك';
    expect(highlight(text, 'الميناء')).toEqual([
      { text: 'موّل صندوق ', match: false },
      { text: 'الميناء', match: true },
      { text: ' هدم سوق السمك', match: false },
    ]);
  });

  it('is case-insensitive beyond ASCII', () => {
    expect(highlightHtml('ÉCOLE and école', 'École')).toBe('<mark>ÉCOLE</mark> and <mark>école</mark>');
    expect(highlightHtml('ΔΗΜΟΣ', 'δημος')).toBe('<mark>ΔΗΜΟΣ</mark>');
  });

  it('prefers the longer of overlapping terms', () => {
    expect(highlightHtml('Saltmarket', 'salt saltmarket')).toBe('<mark>Saltmarket</mark>');
  });

  it('returns the text unchanged for an empty query', () => {
    expect(highlight('abc', '  ')).toEqual([{ text: 'abc', match: false }]);
    expect(highlight('', 'abc')).toEqual([]);
  });

  it('escapes every HTML-special character', () => {
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});
