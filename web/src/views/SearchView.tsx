/** Search: ranked passages from `GET /search`, query terms highlighted. */

import { useEffect, useRef, useState } from 'preact/hooks';

import { api } from '../api';
import { Empty, ErrorAlert, PageHeader, Spinner, pageLabel } from '../components/ui';
import { useApp } from '../context';
import { errorMessage } from '../lib/errors';
import { highlight } from '../lib/highlight';
import { textDirection } from '../lib/rtl';
import { MODES, isMode } from '../lib/settings';
import { href, navigate, onLinkClick } from '../router';
import type { SearchResult } from '../types';
import { modeLabel } from './AskView';

function Highlighted({ text, query }: { text: string; query: string }) {
  return (
    <p class="hit-text" dir={textDirection(text)}>
      {highlight(text, query).map((s, i) => (s.match ? <mark key={i}>{s.text}</mark> : s.text))}
    </p>
  );
}

export function SearchView({ params }: { params: URLSearchParams }) {
  const { settings, server, defaults } = useApp();
  const urlQ = params.get('q');
  const urlMode = params.get('mode');
  const urlK = params.get('k');
  const [q, setQ] = useState(urlQ ?? '');
  const [mode, setMode] = useState(isMode(urlMode) ? urlMode : settings.mode);
  const [k, setK] = useState(urlK ?? '10');
  const [result, setResult] = useState<{ query: string; data: SearchResult } | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  function run(query: string, m: typeof mode, kk: string) {
    abort.current?.abort();
    const ctl = new AbortController();
    abort.current = ctl;
    setLoading(true);
    setError(null);
    api
      .search(query, Number(kk), m, ctl.signal)
      .then((data) => setResult({ query, data }))
      .catch((e) => {
        if (ctl.signal.aborted) return;
        setResult(null);
        setError(errorMessage(e));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
  }

  useEffect(() => () => abort.current?.abort(), []);

  // The URL is the search: submitting pushes it, and back/forward re-run it.
  useEffect(() => {
    if (urlQ === null) return;
    const m = isMode(urlMode) ? urlMode : settings.mode;
    const kk = urlK ?? '10';
    setQ(urlQ);
    setMode(m);
    setK(kk);
    run(urlQ, m, kk);
  }, [urlQ, urlMode, urlK]);

  function submit(e: Event) {
    e.preventDefault();
    // The server is the judge of what a valid query is; its message is shown as is.
    const url = href('search', { q, mode, k });
    if (url === location.pathname + location.search) run(q, mode, k);
    else navigate(url);
  }

  const modes = server?.modes?.filter(isMode) ?? [...MODES];
  const kMax = defaults.topKMax;

  return (
    <section class="view view-search" aria-labelledby="view-title">
      <PageHeader title="Search">Find passages by keyword, meaning and graph neighbourhood.</PageHeader>
      <form class="card search-form" onSubmit={submit} role="search" data-testid="search-form">
        <label class="field field-grow">
          <span class="label">Search for</span>
          <input
            type="search"
            data-testid="search-input"
            value={q}
            dir="auto"
            placeholder="e.g. Harbour Trust"
            onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label class="field field-inline">
          <span class="label">Mode</span>
          <select data-testid="search-mode" value={mode} onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value as typeof mode)}>
            {modes.map((m) => (
              <option key={m} value={m}>
                {modeLabel(m)}
              </option>
            ))}
          </select>
        </label>
        <label class="field field-inline field-narrow">
          <span class="label">Hits</span>
          <input
            type="number"
            min={1}
            max={kMax}
            value={k}
            data-testid="search-k"
            onInput={(e) => setK((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary" data-testid="search-submit" disabled={loading}>
            {loading ? 'Searching…' : 'Search'}
          </button>
        </div>
      </form>

      <ErrorAlert message={error} testId="search-error" />
      {loading && <Spinner label="Searching…" />}

      {result && !loading && (
        <div data-testid="search-results">
          <p class="muted result-summary">
            {result.data.hits.length} {result.data.hits.length === 1 ? 'hit' : 'hits'} · {result.data.mode} ·{' '}
            {result.data.timings.total_ms.toFixed(0)} ms
            {result.data.reranked ? ' · reranked' : ''}
          </p>
          {result.data.matched_entities.length > 0 && (
            <p class="chips">
              <span class="muted">Entities in the query:</span>
              {result.data.matched_entities.map((e) => (
                <a key={e.id} class="chip" href={href('graph', { entity: e.id })} onClick={onLinkClick}>
                  {e.name}
                </a>
              ))}
            </p>
          )}
          {result.data.hits.length === 0 ? (
            <Empty>Nothing matched. Try other words or another mode.</Empty>
          ) : (
            <ol class="hits">
              {result.data.hits.map((h, i) => (
                <li key={h.chunk_id} class="card hit" data-testid="search-hit">
                  <div class="hit-head">
                    <span class="hit-rank">{i + 1}</span>
                    <div class="hit-doc">
                      <strong>{h.document.title}</strong>
                      <span class="muted">
                        {h.document.source}
                        {h.page != null && ` · ${pageLabel(h.page)}`}
                      </span>
                    </div>
                    <span class="hit-score" title="Fused relevance score">
                      {h.score.toFixed(4)}
                    </span>
                  </div>
                  <Highlighted text={h.text} query={result.query} />
                  {h.entities.length > 0 && (
                    <p class="chips">
                      {h.entities.slice(0, 12).map((e) => (
                        <a key={e.id} class="chip" href={href('graph', { entity: e.id })} onClick={onLinkClick} title={e.type}>
                          {e.name}
                        </a>
                      ))}
                    </p>
                  )}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
      {!result && !loading && !error && <Empty>Results appear here.</Empty>}
    </section>
  );
}
