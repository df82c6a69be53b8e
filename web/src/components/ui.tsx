/** Small shared pieces: alerts, spinners, page headers, formatting. */

import type { ComponentChildren } from 'preact';

import { textDirection } from '../lib/rtl';

export function ErrorAlert({ message, testId = 'error-alert', onRetry }: {
  message: string | null;
  testId?: string;
  onRetry?: () => void;
}) {
  if (!message) return null;
  return (
    <div class="alert alert-error" role="alert" data-testid={testId}>
      <span class="alert-icon" aria-hidden="true">!</span>
      <span class="alert-text">{message}</span>
      {onRetry && (
        <button type="button" class="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <span class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}
    </span>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1 id="view-title">{title}</h1>
      {children && <p class="page-lede">{children}</p>}
    </header>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** A block of corpus text in its own direction (Arabic sources read right to left). */
export function Quote({ text, class: cls = '' }: { text: string; class?: string }) {
  return (
    <blockquote class={`quote ${cls}`} dir={textDirection(text)}>
      {text}
    </blockquote>
  );
}

export function TypeBadge({ type }: { type: string }) {
  return <span class={`badge badge-type type-${type.replace(/[^a-z]/gi, '')}`}>{type}</span>;
}

export function pageLabel(page: number | null | undefined): string {
  return page == null ? '' : `p. ${page}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function relationLabel(type: string): string {
  return type.replace(/_/g, ' ');
}
