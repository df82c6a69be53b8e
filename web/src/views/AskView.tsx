/**
 * Ask: a question, streamed into a cited answer (`POST /api/qa/ask/stream`), or a past answer
 * reopened from the history (`?history=<id>`).
 */

import { useEffect, useRef, useState } from 'preact/hooks';

import { api, askStream } from '../api';
import { AnswerText } from '../components/AnswerText';
import { AnswerPath } from '../components/PathHops';
import { ErrorAlert, PageHeader, Quote, Spinner, pageLabel } from '../components/ui';
import { useApp } from '../context';
import { errorMessage } from '../lib/errors';
import { isRtlLanguage } from '../lib/rtl';
import { MODES, isMode } from '../lib/settings';
import { href, navigate } from '../router';
import type { AnswerMode, PathStep, Source } from '../types';

/** What the answer panel shows, streamed or finished. */
interface Shown {
  question: string;
  text: string;
  sources: Source[];
  graphPath: PathStep[] | null;
  mode: AnswerMode | null;
  retrievalMode: string | null;
  model: string | null;
  language: string | null;
  notice: string | null;
  queryId: number | null;
  createdAt?: string;
  /** Reopened from history: only the cited sources were kept. */
  fromHistory: boolean;
}

type Phase = 'idle' | 'retrieving' | 'writing' | 'loading';

/** Survives switching views, so coming back shows the last answer. */
let lastShown: Shown | null = null;
let lastQuestion = '';

const LANGUAGES: [string, string][] = [
  ['', 'As in the sources'],
  ['en', 'English'],
  ['ar', 'Arabic — العربية'],
  ['fr', 'French — français'],
  ['es', 'Spanish — español'],
  ['de', 'German — Deutsch'],
  ['ru', 'Russian — русский'],
  ['zh', 'Chinese — 中文'],
];

const MODE_LABELS: Record<string, string> = {
  hybrid: 'Hybrid (all three)',
  naive: 'Vector (meaning)',
  keyword: 'Keyword',
  local: 'Graph (local)',
};

export function modeLabel(mode: string): string {
  return MODE_LABELS[mode] ?? mode;
}

export function AskView({ params }: { params: URLSearchParams }) {
  const { settings, updateSettings, server } = useApp();
  const [question, setQuestion] = useState(lastQuestion);
  const [shown, setShown] = useState<Shown | null>(lastShown);
  const [phase, setPhase] = useState<Phase>('idle');
  const [error, setError] = useState<string | null>(null);
  const [openSource, setOpenSource] = useState<number | null>(null);
  const abort = useRef<AbortController | null>(null);
  const answerRef = useRef<HTMLElement>(null);
  const historyId = params.get('history');

  useEffect(() => () => abort.current?.abort(), []);

  useEffect(() => {
    lastQuestion = question;
  }, [question]);

  // On a small screen the answer starts below the form: bring a new answer into view.
  const scrollPending = useRef(false);
  useEffect(() => {
    const el = answerRef.current;
    if (!scrollPending.current || !el) return;
    scrollPending.current = false;
    if (el.getBoundingClientRect().top > window.innerHeight * 0.7) {
      el.scrollIntoView({ block: 'start', behavior: 'smooth' });
    }
  }, [shown, phase]);

  useEffect(() => {
    if (shown && !shown.fromHistory && phase === 'idle') lastShown = shown;
  }, [shown, phase]);

  // Reopen a past answer.
  useEffect(() => {
    if (!historyId) return;
    const id = Number(historyId);
    abort.current?.abort();
    const ctl = new AbortController();
    abort.current = ctl;
    setPhase('loading');
    setError(null);
    scrollPending.current = true;
    api
      .historyEntry(id, ctl.signal)
      .then((h) => {
        setQuestion(h.query);
        setShown({
          question: h.query,
          text: h.answer,
          sources: Array.isArray(h.citations) ? h.citations : [],
          graphPath: null,
          mode: h.mode === 'llm' || h.mode === 'extractive' ? h.mode : null,
          retrievalMode: h.retrieval_mode,
          model: h.model,
          language: h.language,
          notice: null,
          queryId: h.id,
          createdAt: h.created_at,
          fromHistory: true,
        });
      })
      .catch((e) => {
        if (!ctl.signal.aborted) setError(errorMessage(e));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setPhase('idle');
      });
    return () => ctl.abort();
  }, [historyId]);

  async function ask(e?: Event) {
    e?.preventDefault();
    const q = question.trim();
    if (!q || phase === 'retrieving' || phase === 'writing') return;
    if (historyId) navigate(href('ask'), true);
    abort.current?.abort();
    const ctl = new AbortController();
    abort.current = ctl;
    setError(null);
    setOpenSource(null);
    setPhase('retrieving');
    scrollPending.current = true;
    const base: Shown = {
      question: q,
      text: '',
      sources: [],
      graphPath: null,
      mode: null,
      retrievalMode: settings.mode,
      model: null,
      language: settings.language || null,
      notice: null,
      queryId: null,
      fromHistory: false,
    };
    setShown(base);
    let text = '';
    try {
      const answer = await askStream(
        {
          query: q,
          mode: settings.mode,
          top_k: settings.topK,
          ...(settings.model ? { model: settings.model } : {}),
          ...(settings.language && server?.translation ? { language: settings.language } : {}),
        },
        {
          onSources(ev) {
            setPhase('writing');
            setShown((s) => s && { ...s, sources: ev.sources, graphPath: ev.graph_path, mode: ev.mode, retrievalMode: ev.retrieval_mode });
          },
          onDelta(delta) {
            text += delta;
            const now = text;
            setShown((s) => s && { ...s, text: now });
          },
        },
        ctl.signal,
      );
      setShown({
        question: answer.query,
        text: answer.answer,
        sources: answer.sources,
        graphPath: answer.graph_path,
        mode: answer.mode,
        retrievalMode: answer.retrieval_mode,
        model: answer.model,
        language: answer.language,
        notice: answer.notice,
        queryId: answer.query_id,
        fromHistory: false,
      });
    } catch (err) {
      if (ctl.signal.aborted) return;
      setError(errorMessage(err));
    } finally {
      if (abort.current === ctl) {
        setPhase('idle');
        abort.current = null;
      }
    }
  }

  function stop() {
    abort.current?.abort();
    abort.current = null;
    setPhase('idle');
    setShown((s) => s && { ...s, notice: 'Stopped before the answer was complete.' });
  }

  const busy = phase === 'retrieving' || phase === 'writing';
  const modes = server?.modes?.filter(isMode) ?? [...MODES];

  return (
    <section class="view view-ask" aria-labelledby="view-title">
      <PageHeader title="Ask">Ask a question about the corpus; the answer cites its evidence.</PageHeader>
      <form class="card ask-form" onSubmit={ask} data-testid="ask-form">
        <label class="field">
          <span class="label">Question</span>
          <textarea
            data-testid="ask-input"
            rows={3}
            value={question}
            dir="auto"
            placeholder="e.g. Who funded the demolition of the Saltmarket Fish Hall?"
            onInput={(e) => setQuestion((e.currentTarget as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void ask();
            }}
            maxLength={2000}
          />
        </label>
        <div class="form-row">
          <label class="field field-inline">
            <span class="label">Retrieval</span>
            <select
              data-testid="ask-mode"
              value={settings.mode}
              onChange={(e) => {
                const v = (e.currentTarget as HTMLSelectElement).value;
                if (isMode(v)) updateSettings({ ...settings, mode: v });
              }}
            >
              {modes.map((m) => (
                <option key={m} value={m}>
                  {modeLabel(m)}
                </option>
              ))}
            </select>
          </label>
          {server?.translation && (
            <label class="field field-inline">
              <span class="label">Answer language</span>
              <select
                data-testid="ask-language"
                value={settings.language}
                onChange={(e) => updateSettings({ ...settings, language: (e.currentTarget as HTMLSelectElement).value })}
              >
                {LANGUAGES.map(([code, name]) => (
                  <option key={code} value={code}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <div class="form-actions">
            {busy ? (
              <button type="button" class="btn" onClick={stop} data-testid="ask-stop">
                Stop
              </button>
            ) : null}
            <button type="submit" class="btn btn-primary" disabled={busy || !question.trim()} data-testid="ask-submit">
              {busy ? 'Answering…' : 'Ask'}
            </button>
          </div>
        </div>
        <p class="hint">
          {settings.topK} sources per answer{settings.model ? ` · model ${settings.model}` : ''} · Ctrl+Enter to ask
        </p>
      </form>

      <ErrorAlert message={error} testId="ask-error" onRetry={error && question.trim() ? () => void ask() : undefined} />

      {phase === 'loading' && <Spinner label="Opening the saved answer…" />}

      {shown && phase !== 'loading' && (
        <article
          ref={answerRef}
          class="card answer"
          data-testid="answer"
          data-query-id={shown.queryId ?? undefined}
          aria-live="polite"
          aria-busy={busy}
        >
          <header class="answer-head">
            <h2 class="answer-question" dir="auto">
              {shown.question}
            </h2>
            <div class="badges">
              {shown.mode === 'extractive' && (
                <span class="badge badge-warn" title="No language model is configured: the answer quotes the sources">
                  Extractive
                </span>
              )}
              {shown.mode === 'llm' && <span class="badge">{shown.model ?? 'LLM'}</span>}
              {shown.retrievalMode && <span class="badge badge-muted">{shown.retrievalMode}</span>}
              {shown.language && <span class="badge badge-muted">{shown.language}</span>}
              {shown.fromHistory && shown.createdAt && (
                <span class="badge badge-muted">saved {new Date(shown.createdAt).toLocaleString()}</span>
              )}
            </div>
          </header>

          {phase === 'retrieving' && <Spinner label="Finding sources…" />}
          {phase === 'writing' && !shown.text && <Spinner label="Writing the answer…" />}

          {shown.text && (
            <div dir={isRtlLanguage(shown.language) ? 'rtl' : undefined}>
              <AnswerText text={shown.text} sources={shown.sources} streaming={phase === 'writing'} onCite={setOpenSource} />
            </div>
          )}
          {phase === 'idle' && shown.text && shown.queryId != null && (
            <p class="muted small" data-testid="answer-done">
              Answer #{shown.queryId}
              {shown.fromHistory ? ' (from history)' : ''}
            </p>
          )}
          {shown.notice && <p class="notice">{shown.notice}</p>}

          {shown.graphPath && shown.graphPath.length > 0 && (
            <section class="answer-section">
              <h3>How they are connected</h3>
              <AnswerPath steps={shown.graphPath} sources={shown.sources} />
            </section>
          )}

          {shown.sources.length > 0 && (
            <section class="answer-section">
              <h3>{shown.fromHistory ? 'Cited sources' : 'Sources'}</h3>
              <ol class="sources" data-testid="sources">
                {shown.sources.map((s) => (
                  <li key={s.n} id={`source-${s.n}`} class={`source${openSource === s.n ? ' source-open' : ''}`}>
                    <div class="source-meta">
                      <span class="source-n">{s.n}</span>
                      <strong>{s.document.title}</strong>
                      <span class="muted">
                        {s.document.source}
                        {s.page != null && ` · ${pageLabel(s.page)}`}
                      </span>
                    </div>
                    <Quote text={s.text} class="source-text" />
                  </li>
                ))}
              </ol>
            </section>
          )}
        </article>
      )}
    </section>
  );
}
