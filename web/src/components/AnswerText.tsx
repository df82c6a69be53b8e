/**
 * An answer with clickable citations. Each valid `[n]` becomes a button that opens a popover
 * with the cited chunk's text, document and page; the text runs right to left when it is
 * mostly written in a right-to-left script.
 */

import { Fragment } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';

import { claimBefore, locateClaim, parseCitations } from '../lib/citations';
import { textDirection } from '../lib/rtl';
import type { Source } from '../types';
import { pageLabel } from './ui';

interface Open {
  source: Source;
  anchor: HTMLElement;
  /** The answer's sentence before the citation, to find in the source. */
  claim: string;
}

export function AnswerText({ text, sources, streaming = false, onCite }: {
  text: string;
  sources: Source[];
  streaming?: boolean;
  /** Told which source was opened (to mark it in the sources list). */
  onCite?: (n: number | null) => void;
}) {
  const byNumber = useMemo(() => new Map(sources.map((s) => [s.n, s])), [sources]);
  const maxN = useMemo(() => sources.reduce((m, s) => Math.max(m, s.n), 0), [sources]);
  const paragraphs = useMemo(
    () => text.split(/\n{2,}/).map((p) => parseCitations(p, maxN)),
    [text, maxN],
  );
  const dir = textDirection(text);
  const [open, setOpen] = useState<Open | null>(null);

  function show(n: number, anchor: HTMLElement, claim: string) {
    const source = byNumber.get(n);
    if (!source) return;
    if (open && open.source.n === n && open.anchor === anchor) {
      close();
      return;
    }
    setOpen({ source, anchor, claim });
    onCite?.(n);
  }

  function close() {
    const anchor = open?.anchor;
    setOpen(null);
    onCite?.(null);
    anchor?.focus();
  }

  return (
    <div class="answer-text" dir={dir} data-testid="answer-text" aria-busy={streaming}>
      {paragraphs.map((pieces, i) => (
        <p key={i}>
          {pieces.map((piece, j) =>
            piece.kind === 'text' ? (
              <Fragment key={j}>{piece.text}</Fragment>
            ) : (
              <button
                key={j}
                type="button"
                class={`cite${open?.source.n === piece.n ? ' cite-open' : ''}`}
                data-testid="citation"
                data-n={piece.n}
                aria-label={`Source ${piece.n}: ${byNumber.get(piece.n)?.document.title ?? ''}`}
                aria-expanded={open?.source.n === piece.n}
                onClick={(e) => show(piece.n, e.currentTarget as HTMLElement, claimBefore(pieces, j))}
              >
                {piece.text}
              </button>
            ),
          )}
          {streaming && i === paragraphs.length - 1 && <span class="caret" aria-hidden="true" />}
        </p>
      ))}
      {open && <CitationPopover source={open.source} anchor={open.anchor} claim={open.claim} onClose={close} />}
    </div>
  );
}

function CitationPopover({ source, anchor, claim, onClose }: {
  source: Source;
  anchor: HTMLElement;
  claim: string;
  onClose(): void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const markRef = useRef<HTMLElement>(null);
  const [pos, setPos] = useState<{ top: number; left: number; maxHeight: number } | null>(null);
  const at = useMemo(() => locateClaim(source.text, claim), [source.text, claim]);

  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  // Place below the citation (above if there is no room), inside the viewport; on narrow
  // screens CSS makes it a bottom sheet instead.
  useLayoutEffect(() => {
    const place = () => {
      const el = ref.current;
      if (!el) return;
      const a = anchor.getBoundingClientRect();
      const w = el.offsetWidth;
      const h = el.scrollHeight;
      const margin = 8;
      const gap = 6;
      let left = a.left + a.width / 2 - w / 2;
      left = Math.max(margin, Math.min(left, window.innerWidth - w - margin));
      const below = window.innerHeight - a.bottom - gap - margin;
      const above = a.top - gap - margin;
      // Below when it fits or there is reasonable room (it scrolls inside); above only when
      // below is cramped and above is roomier.
      const goBelow = h <= below || below >= 260 || below >= above;
      const maxHeight = Math.max(120, Math.min(420, goBelow ? below : above));
      const height = Math.min(h, maxHeight);
      const top = goBelow ? a.bottom + gap : a.top - gap - height;
      setPos({ top, left, maxHeight });
    };
    place();
    window.addEventListener('resize', place);
    window.addEventListener('scroll', place, true);
    return () => {
      window.removeEventListener('resize', place);
      window.removeEventListener('scroll', place, true);
    };
  }, [anchor, source]);

  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
    // Bring the quoted sentence into view inside the popover.
    const mark = markRef.current;
    const box = ref.current;
    if (mark && box) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
  }, [source, pos !== null]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') closeRef.current();
    };
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node;
      if (ref.current?.contains(t) || anchor.contains(t)) return;
      closeRef.current();
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onDown);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onDown);
    };
  }, [anchor]);

  const page = pageLabel(source.page);
  return (
    <div
      ref={ref}
      class="popover"
      role="dialog"
      aria-label={`Source ${source.n}`}
      tabIndex={-1}
      data-testid="citation-popover"
      style={
        pos
          ? { top: `${pos.top}px`, left: `${pos.left}px`, maxHeight: `${pos.maxHeight}px` }
          : { visibility: 'hidden', top: '0px', left: '0px' }
      }
      dir="ltr"
    >
      <div class="popover-head">
        <span class="source-n">{source.n}</span>
        <div class="popover-title">
          <strong data-testid="popover-title">{source.document.title}</strong>
          <span class="muted">
            {source.document.source}
            {page && ` · ${page}`}
          </span>
        </div>
        <button type="button" class="icon-btn" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <p class="popover-text" dir={textDirection(source.text)} data-testid="popover-text">
        {at ? (
          <>
            {source.text.slice(0, at.start)}
            <mark ref={markRef} class="claim" title="The sentence the answer quotes">
              {source.text.slice(at.start, at.end)}
            </mark>
            {source.text.slice(at.end)}
          </>
        ) : (
          source.text
        )}
      </p>
    </div>
  );
}
