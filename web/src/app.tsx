/** The shell: header with navigation, the current view, settings, toasts. */

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { api, setApiKey } from './api';
import { SettingsDialog } from './components/SettingsDialog';
import { AppContext, type AppContextValue, type Toast, type ToastKind } from './context';
import { errorMessage } from './lib/errors';
import {
  FALLBACK_DEFAULTS,
  type Settings,
  type SettingsDefaults,
  browserStorage,
  isMode,
  loadSettings,
  saveSettings,
} from './lib/settings';
import { type View, href, onLinkClick, useRoute } from './router';
import type { ServerSettings } from './types';
import { onFinished } from './uploads';
import { AskView } from './views/AskView';
import { DocumentsView } from './views/DocumentsView';
import { GraphView } from './views/GraphView';
import { HistoryView } from './views/HistoryView';
import { SearchView } from './views/SearchView';

const NAV: [View, string][] = [
  ['ask', 'Ask'],
  ['search', 'Search'],
  ['documents', 'Documents'],
  ['history', 'History'],
  ['graph', 'Graph'],
];

const TITLES: Record<View, string> = {
  ask: 'Ask',
  search: 'Search',
  documents: 'Documents',
  history: 'History',
  graph: 'Graph',
};

function defaultsFrom(server: ServerSettings | null): SettingsDefaults {
  if (!server) return FALLBACK_DEFAULTS;
  return {
    mode: isMode(server.default_mode) ? server.default_mode : FALLBACK_DEFAULTS.mode,
    topK: server.top_k?.default ?? FALLBACK_DEFAULTS.topK,
    topKMax: server.top_k?.max ?? FALLBACK_DEFAULTS.topKMax,
  };
}

export function App() {
  const route = useRoute();
  const storage = useMemo(browserStorage, []);
  const [server, setServer] = useState<ServerSettings | null>(null);
  const defaults = useMemo(() => defaultsFrom(server), [server]);
  const [settings, setSettings] = useState<Settings>(() => loadSettings(storage));
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [navOpen, setNavOpen] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const nextToast = useRef(1);

  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);

  const toast = useCallback(
    (kind: ToastKind, message: string) => {
      const id = nextToast.current++;
      setToasts((t) => [...t.slice(-3), { id, kind, message }]);
      // Errors stay until dismissed; the rest fade out.
      if (kind !== 'error') window.setTimeout(() => dismiss(id), 5000);
    },
    [dismiss],
  );

  setApiKey(settings.apiKey);

  useEffect(() => {
    api
      .settings()
      .then((s) => {
        setServer(s);
        setSettings(loadSettings(storage, defaultsFrom(s)));
      })
      .catch((e) => toast('error', `Could not load the server's settings (${errorMessage(e)}); using built-in defaults.`));
  }, []);

  useEffect(
    () =>
      onFinished((u) => {
        if (u.phase === 'failed') {
          const error = u.error ?? 'upload failed';
          toast('error', error.includes(u.name) ? error : `${u.name}: ${error}`);
        }
        else toast('success', `${u.name}: ${u.duplicate ? 'already stored' : 'ingested'}.`);
      }),
    [toast],
  );

  useEffect(() => {
    document.title = `${TITLES[route.view]} · SocioGraph`;
    setNavOpen(false);
    window.scrollTo(0, 0);
  }, [route.view]);

  // The phone menu closes with Escape, like the dialogs.
  useEffect(() => {
    if (!navOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setNavOpen(false);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [navOpen]);

  const updateSettings = useCallback(
    (next: Settings) => {
      setSettings(next);
      if (!saveSettings(storage, next, defaults)) {
        toast('error', 'This browser refused to store the settings; they last until the page is closed.');
      }
    },
    [storage, defaults, toast],
  );

  const ctx: AppContextValue = { settings, updateSettings, server, defaults, toast };

  let view;
  switch (route.view) {
    case 'ask':
      view = <AskView params={route.params} />;
      break;
    case 'search':
      view = <SearchView params={route.params} />;
      break;
    case 'documents':
      view = <DocumentsView />;
      break;
    case 'history':
      view = <HistoryView params={route.params} />;
      break;
    case 'graph':
      view = <GraphView params={route.params} />;
      break;
  }

  return (
    <AppContext.Provider value={ctx}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <a class="brand" href={href('ask')} onClick={onLinkClick}>
            <span class="brand-mark" aria-hidden="true">
              <svg viewBox="0 0 24 24" width="22" height="22">
                <circle cx="6" cy="7" r="3" />
                <circle cx="18" cy="6" r="2.5" />
                <circle cx="12" cy="17" r="3.5" />
                <path d="M8.5 8.5 10.5 14M15.8 7.5 13.5 14M8.8 6.8 15.6 6.2" />
              </svg>
            </span>
            SocioGraph
          </a>
          <button
            type="button"
            class="nav-toggle"
            aria-expanded={navOpen}
            aria-controls="main-nav"
            data-testid="nav-toggle"
            onClick={() => setNavOpen(!navOpen)}
          >
            <span class="visually-hidden">Menu</span>
            <span class="burger" aria-hidden="true" />
          </button>
          <nav id="main-nav" class={`nav${navOpen ? ' nav-open' : ''}`} aria-label="Main" data-testid="nav">
            {NAV.map(([v, label]) => (
              <a
                key={v}
                href={href(v)}
                onClick={onLinkClick}
                class={`nav-link${route.view === v ? ' active' : ''}`}
                aria-current={route.view === v ? 'page' : undefined}
                data-testid={`nav-${v}`}
              >
                {label}
              </a>
            ))}
            <button type="button" class="nav-link nav-settings" onClick={() => setSettingsOpen(true)} data-testid="nav-settings">
              Settings
            </button>
          </nav>
        </div>
      </header>
      <main id="main" class="main" tabIndex={-1}>
        {view}
      </main>
      <footer class="footer muted small">
        SocioGraph{server ? ` ${server.version}` : ''} ·{' '}
        <a href="/docs">API docs</a>
      </footer>
      <SettingsDialog open={settingsOpen} onClose={() => setSettingsOpen(false)} />
      <div class="toasts" aria-live="polite" aria-atomic="false">
        {toasts.map((t) => (
          <div key={t.id} class={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} data-testid="toast" data-kind={t.kind}>
            <span class="toast-text">{t.message}</span>
            <button type="button" class="icon-btn" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </AppContext.Provider>
  );
}
