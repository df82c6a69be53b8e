/** History: past answers, searchable; reopen one with its citations, or delete it. */

import { useEffect, useRef, useState } from 'preact/hooks';

import { api } from '../api';
import { ConfirmDialog, type ConfirmRequest } from '../components/ConfirmDialog';
import { Empty, ErrorAlert, PageHeader, Spinner, formatDate } from '../components/ui';
import { useApp } from '../context';
import { errorMessage } from '../lib/errors';
import { textDirection } from '../lib/rtl';
import { href, navigate } from '../router';
import type { HistoryPage } from '../types';

const PER_PAGE = 20;

export function HistoryView({ params }: { params: URLSearchParams }) {
  const { toast } = useApp();
  const urlQ = params.get('q') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [q, setQ] = useState(urlQ);
  const [data, setData] = useState<HistoryPage | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [reload, setReload] = useState(0);
  const abort = useRef<AbortController | null>(null);

  useEffect(() => {
    setQ(urlQ);
    abort.current?.abort();
    const ctl = new AbortController();
    abort.current = ctl;
    setLoading(true);
    setError(null);
    api
      .history(urlQ, page, PER_PAGE, ctl.signal)
      .then(setData)
      .catch((e) => {
        if (!ctl.signal.aborted) setError(errorMessage(e));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [urlQ, page, reload]);

  function submit(e: Event) {
    e.preventDefault();
    const url = href('history', { q: q.trim() || undefined });
    if (url === location.pathname + location.search) setReload((n) => n + 1);
    else navigate(url);
  }

  function askDelete(id: number, query: string) {
    setConfirm({
      title: 'Delete this answer?',
      body: (
        <p>
          The saved answer to <q dir="auto">{query}</q> will be removed from the history.
        </p>
      ),
      confirmLabel: 'Delete',
      async onConfirm() {
        try {
          await api.deleteHistory(id);
          toast('success', 'The answer was deleted.');
        } catch (e) {
          toast('error', `Could not delete the answer: ${errorMessage(e)}`);
        }
        setReload((n) => n + 1);
      },
    });
  }

  const pages = data ? Math.max(1, Math.ceil(data.total / data.per_page)) : 1;

  return (
    <section class="view view-history" aria-labelledby="view-title">
      <PageHeader title="History">Every answer is kept under a stable number. Reopen one to see its citations.</PageHeader>
      <form class="card search-form" role="search" onSubmit={submit}>
        <label class="field field-grow">
          <span class="label">Find in questions and answers</span>
          <input
            type="search"
            value={q}
            dir="auto"
            data-testid="history-search"
            onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary">
            Search
          </button>
        </div>
      </form>

      <ErrorAlert message={error} testId="history-error" onRetry={() => setReload((n) => n + 1)} />
      {loading && <Spinner label="Loading history…" />}

      {data && !loading && (
        <>
          <p class="muted result-summary">
            {data.total} {data.total === 1 ? 'answer' : 'answers'}
            {urlQ && ` matching “${urlQ}”`}
          </p>
          {data.items.length === 0 ? (
            <Empty>{urlQ ? 'No saved answer matches.' : 'No answers yet. Ask something first.'}</Empty>
          ) : (
            <ul class="history-list" data-testid="history-list">
              {data.items.map((h) => (
                <li key={h.id} class="card history-item" data-testid="history-item" data-id={h.id}>
                  <div class="history-head">
                    <h2 class="history-q" dir="auto">
                      {h.query}
                    </h2>
                    <span class="muted small">
                      #{h.id} · {formatDate(h.created_at)} · {h.mode} · {h.retrieval_mode}
                      {h.language ? ` · ${h.language}` : ''}
                    </span>
                  </div>
                  <p class="history-answer" dir={textDirection(h.answer)}>
                    {h.answer.length > 280 ? `${h.answer.slice(0, 280)}…` : h.answer}
                  </p>
                  <div class="row-actions">
                    <a
                      class="btn btn-small"
                      href={href('ask', { history: h.id })}
                      data-testid="history-open"
                      onClick={(e) => {
                        e.preventDefault();
                        navigate(href('ask', { history: h.id }));
                      }}
                    >
                      Open
                    </a>
                    <button
                      type="button"
                      class="btn btn-small btn-danger-quiet"
                      onClick={() => askDelete(h.id, h.query)}
                      data-testid="history-delete"
                    >
                      Delete
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )}
          {pages > 1 && (
            <nav class="pager" aria-label="Pages">
              <button
                type="button"
                class="btn btn-small"
                disabled={page <= 1}
                onClick={() => navigate(href('history', { q: urlQ || undefined, page: page - 1 }))}
              >
                ← Newer
              </button>
              <span class="muted">
                Page {page} of {pages}
              </span>
              <button
                type="button"
                class="btn btn-small"
                disabled={page >= pages}
                onClick={() => navigate(href('history', { q: urlQ || undefined, page: page + 1 }))}
              >
                Older →
              </button>
            </nav>
          )}
        </>
      )}
      <ConfirmDialog request={confirm} onClose={() => setConfirm(null)} />
    </section>
  );
}
