/**
 * A passage quoted as evidence, with the sentence it supports marked. Long passages show the
 * marked sentence with some context; the whole passage is one click away.
 */

import { useMemo, useState } from 'preact/hooks';

import { excerpt, locateClaim } from '../lib/citations';
import { textDirection } from '../lib/rtl';

export function EvidenceQuote({ text, focus }: { text: string; focus: string }) {
  const [whole, setWhole] = useState(false);
  const at = useMemo(() => locateClaim(text, focus), [text, focus]);
  const dir = textDirection(text);

  let body;
  let canToggle: boolean;
  if (!at) {
    canToggle = text.length > 400;
    body = (
      <blockquote class={`quote${whole || !canToggle ? '' : ' quote-clamp'}`} dir={dir}>
        {text}
      </blockquote>
    );
  } else {
    const win = whole ? { from: 0, to: text.length, before: false, after: false } : excerpt(text, at.start, at.end);
    canToggle = whole || win.before || win.after;
    body = (
      <blockquote class="quote" dir={dir}>
        {win.before && '… '}
        {text.slice(win.from, at.start)}
        <mark class="claim">{text.slice(at.start, at.end)}</mark>
        {text.slice(at.end, win.to)}
        {win.after && ' …'}
      </blockquote>
    );
  }
  return (
    <div class="evidence-quote">
      {body}
      {canToggle && (
        <button type="button" class="link-btn quote-toggle" onClick={() => setWhole(!whole)} aria-expanded={whole}>
          {whole ? 'Show less' : 'Show the whole passage'}
        </button>
      )}
    </div>
  );
}
