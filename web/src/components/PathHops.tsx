/** A chain of relations between two entities, each hop with the text that evidences it. */

import type { EntitySummary, PathHop, PathStep, Source } from '../types';
import { href, onLinkClick } from '../router';
import { locateClaim } from '../lib/citations';
import { EvidenceQuote } from './Evidence';
import { pageLabel, relationLabel } from './ui';

function EntityLink({ entity }: { entity: EntitySummary }) {
  return (
    <a class="entity-link" href={href('graph', { entity: entity.id })} onClick={onLinkClick}>
      {entity.name}
    </a>
  );
}

/** "A —funds→ B", or "A ←funds— B" when the relation points back. */
export function HopLine({ from, to, type, forward }: {
  from: EntitySummary;
  to: EntitySummary;
  type: string;
  forward: boolean;
}) {
  return (
    <div class="hop-line">
      <EntityLink entity={from} />
      <span class={`hop-rel${forward ? '' : ' hop-back'}`} title={forward ? undefined : 'the relation points back'}>
        {forward ? '' : '← '}
        {relationLabel(type)}
        {forward ? ' →' : ''}
      </span>
      <EntityLink entity={to} />
    </div>
  );
}

/** The graph path of an answer; evidence comes from the answer's numbered sources. */
export function AnswerPath({ steps, sources }: { steps: PathStep[]; sources: Source[] }) {
  return (
    <ol class="hops" data-testid="answer-path">
      {steps.map((s) => {
        const source = sources.find((src) => src.chunk_id === s.evidence_chunk);
        return (
          <li key={s.relation_id} class="hop">
            <HopLine from={s.from} to={s.to} type={s.type} forward={s.forward} />
            {s.description && <p class="hop-desc">{s.description}</p>}
            {source && (
              <p class="muted small">
                Evidence: source [{source.n}], {source.document.title}
                {source.page != null && `, ${pageLabel(source.page)}`}
              </p>
            )}
          </li>
        );
      })}
    </ol>
  );
}

/** One path from the path finder, with its evidence quoted. */
export function PathFinderHops({ hops }: { hops: PathHop[] }) {
  return (
    <ol class="hops">
      {hops.map((h) => (
        <li key={h.relation_id} class="hop" data-testid="path-hop">
          <HopLine from={h.from} to={h.to} type={h.type} forward={h.forward} />
          {/* The description is usually the evidence's own sentence, marked in the quote. */}
          {h.description && !(h.evidence && locateClaim(h.evidence.text, h.description)) && (
            <p class="hop-desc">{h.description}</p>
          )}
          {h.evidence ? (
            <div class="hop-evidence" data-testid="path-evidence">
              <EvidenceQuote text={h.evidence.text} focus={h.description} />
              <p class="muted small">
                {h.evidence.title}
                {h.evidence.source && h.evidence.source !== h.evidence.title && ` (${h.evidence.source})`}
                {h.evidence.page != null && ` · ${pageLabel(h.evidence.page)}`}
              </p>
            </div>
          ) : (
            <p class="muted small">No evidence text recorded for this relation.</p>
          )}
        </li>
      ))}
    </ol>
  );
}
