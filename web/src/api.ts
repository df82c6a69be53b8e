/**
 * The HTTP client: relative URLs on the serving origin, the API key as `Authorization: Bearer`
 * (what the server's auth middleware reads) when one is set, and every failure turned into an
 * [`ApiError`] whose message is the server's `error` text (or the HTTP status / network cause).
 */

import { ApiError, errorFromBody, errorFromResponse, networkError } from './lib/errors';
import { readSse } from './lib/sse';
import type {
  Answer,
  AskBody,
  DocumentList,
  EntityDetail,
  EntityRecord,
  GraphStats,
  HistoryPage,
  HistoryRecord,
  JobRecord,
  PathResult,
  SearchResult,
  ServerSettings,
  SourcesEvent,
  Subgraph,
  UploadResponse,
} from './types';

let apiKey = '';

/** Set the key sent with every request ("" sends none). */
export function setApiKey(key: string): void {
  apiKey = key.trim();
}

function authHeaders(): Record<string, string> {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function send(url: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      headers: { Accept: 'application/json', ...authHeaders(), ...(init.headers ?? {}) },
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw networkError(e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}

async function json<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await send(url, init);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(`The server sent a reply that is not JSON (HTTP ${res.status}).`, res.status, 'bad_reply');
  }
}

export const api = {
  settings: (signal?: AbortSignal) => json<ServerSettings>('/api/settings', { signal }),

  search: (q: string, k: number, mode: string, signal?: AbortSignal) =>
    json<SearchResult>(`/search${query({ q, k, mode })}`, { signal }),

  ask: (body: AskBody, signal?: AbortSignal) =>
    json<Answer>('/api/qa/ask', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    }),

  documents: (signal?: AbortSignal) => json<DocumentList>('/api/documents', { signal }),

  deleteDocument: (id: string) =>
    json<{ deleted: string }>(`/api/documents/${encodeURIComponent(id)}`, { method: 'DELETE' }),

  job: (id: string, signal?: AbortSignal) =>
    json<JobRecord>(`/api/jobs/${encodeURIComponent(id)}`, { signal }),

  history: (q: string, page: number, perPage: number, signal?: AbortSignal) =>
    json<HistoryPage>(`/api/history${query({ q: q.trim() || undefined, page, per_page: perPage })}`, {
      signal,
    }),

  historyEntry: (id: number, signal?: AbortSignal) =>
    json<HistoryRecord>(`/api/history/${id}`, { signal }),

  deleteHistory: (id: number) => json<void>(`/api/history/${id}`, { method: 'DELETE' }),

  entities: (q: string, limit: number, signal?: AbortSignal) =>
    json<{ entities: EntityRecord[] }>(`/api/graph/entities${query({ q, limit })}`, { signal }),

  entity: (id: number, signal?: AbortSignal) =>
    json<EntityDetail>(`/api/graph/entities/${id}`, { signal }),

  subgraph: (entity: number, depth: number, limit: number, signal?: AbortSignal) =>
    json<Subgraph>(`/api/graph/subgraph${query({ entity, depth, limit })}`, { signal }),

  path: (from: number, to: number, maxHops: number, limit: number, signal?: AbortSignal) =>
    json<PathResult>(`/api/graph/path${query({ from, to, max_hops: maxHops, limit })}`, { signal }),

  stats: (top: number, signal?: AbortSignal) =>
    json<GraphStats>(`/api/graph/stats${query({ top })}`, { signal }),
};

/** What an answer stream reports as it goes. */
export interface AskHandlers {
  onSources(event: SourcesEvent): void;
  onDelta(text: string): void;
}

/**
 * Ask over `POST /api/qa/ask/stream` and resolve with the finished answer (the `done` event).
 * Failures before the stream starts are HTTP errors; a failure mid-stream is an `error` event;
 * both reject with an [`ApiError`], as does a stream that ends without either.
 */
export async function askStream(body: AskBody, handlers: AskHandlers, signal?: AbortSignal): Promise<Answer> {
  const res = await send('/api/qa/ask/stream', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.body) throw new ApiError('The server sent an empty answer stream.', res.status, 'bad_reply');
  for await (const event of readSse(res.body)) {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw new ApiError(`The answer stream sent an unreadable "${event.event}" event.`, res.status, 'bad_reply');
    }
    switch (event.event) {
      case 'sources':
        handlers.onSources(data as SourcesEvent);
        break;
      case 'delta':
        handlers.onDelta((data as { text?: string }).text ?? '');
        break;
      case 'done':
        return data as Answer;
      case 'error': {
        const body = data as { error?: string; error_type?: string };
        throw new ApiError(body.error || 'The answer failed.', 200, body.error_type || 'error');
      }
      default:
        break;
    }
  }
  throw new ApiError('The answer stream ended before the answer was complete.', res.status, 'incomplete_stream');
}

/**
 * Upload one file as multipart field `file` with XMLHttpRequest, which (unlike fetch) reports
 * upload progress. `onProgress` gets the fraction sent, 0..1.
 */
export function uploadFile(
  file: File,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<UploadResponse> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/documents');
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(Math.min(1, e.loaded / e.total));
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        try {
          resolve(JSON.parse(xhr.responseText) as UploadResponse);
        } catch {
          reject(new ApiError('The server sent a reply that is not JSON.', xhr.status, 'bad_reply'));
        }
      } else {
        reject(errorFromBody(xhr.status, xhr.statusText, xhr.responseText));
      }
    };
    xhr.onerror = () => reject(networkError('the upload failed'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}
