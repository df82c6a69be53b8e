/**
 * Client-side routes under the app's base (`/app/`), with the History API. The server answers
 * every one of these paths with index.html.
 */

import { useEffect, useState } from 'preact/hooks';

export const VIEWS = ['ask', 'search', 'documents', 'history', 'graph'] as const;
export type View = (typeof VIEWS)[number];

export const BASE = (import.meta.env?.BASE_URL ?? '/app/').replace(/\/?$/, '/');

export interface Route {
  view: View;
  params: URLSearchParams;
}

/** The view for a path under the base; unknown paths show Ask. */
export function parseRoute(pathname: string, search: string): Route {
  let rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname.replace(/^\/+/, '');
  rest = rest.replace(/\/+$/, '').split('/')[0] ?? '';
  const view = (VIEWS as readonly string[]).includes(rest) ? (rest as View) : 'ask';
  return { view, params: new URLSearchParams(search) };
}

export function href(view: View, params?: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return `${BASE}${view === 'ask' ? '' : view}${s ? `?${s}` : ''}`;
}

const CHANGE = 'sociograph:navigate';

export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(CHANGE));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.search));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname, location.search));
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return route;
}

/** Follow same-app links without a page load (ctrl/cmd-click still opens a new tab). */
export function onLinkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a || !a.href) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}
