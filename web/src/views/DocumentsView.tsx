/**
 * Documents: upload (drag and drop or the file picker; per-file progress, then the ingest job
 * until it is done), the stored documents, and deletion after an in-page confirmation.
 */

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

import { api } from '../api';
import { ConfirmDialog, type ConfirmRequest } from '../components/ConfirmDialog';
import { Empty, ErrorAlert, PageHeader, Spinner, formatBytes, formatDate } from '../components/ui';
import { useApp } from '../context';
import { errorMessage } from '../lib/errors';
import type { DocumentRecord } from '../types';
import { type Upload, addFiles, clearFinished, getUploads, onFinished, subscribe } from '../uploads';

const ACCEPT = '.pdf,.txt,.md,.markdown,.html,.htm,application/pdf,text/plain,text/markdown,text/html';

function useUploads(): Upload[] {
  const [list, setList] = useState(getUploads);
  useEffect(() => subscribe(() => setList(getUploads())), []);
  return list;
}

function UploadRow({ u }: { u: Upload }) {
  let label: string;
  let value: number;
  switch (u.phase) {
    case 'uploading':
      label = `uploading ${Math.round(u.sent * 100)}%`;
      value = u.sent;
      break;
    case 'queued':
      label = 'queued';
      value = 0;
      break;
    case 'running':
      label = `ingesting${u.stage ? ` · ${u.stage}` : ''} ${Math.round(u.progress * 100)}%`;
      value = u.progress;
      break;
    case 'done':
      label = u.duplicate ? 'done (already stored)' : 'done';
      value = 1;
      break;
    case 'failed':
      label = 'failed';
      value = 1;
      break;
  }
  return (
    <li class={`upload upload-${u.phase}`} data-testid="upload-row" data-name={u.name} data-phase={u.phase}>
      <div class="upload-head">
        <span class="upload-name">{u.name}</span>
        <span class="muted small">{formatBytes(u.size)}</span>
        <span class={`status status-${u.phase}`} data-testid="upload-status">
          {label}
        </span>
      </div>
      <progress
        max={1}
        value={u.phase === 'queued' ? undefined : value}
        aria-label={`${u.name}: ${label}`}
      />
      {u.error && (
        <p class="upload-error" role="alert">
          {u.error}
        </p>
      )}
    </li>
  );
}

export function DocumentsView() {
  const { server, settings, toast } = useApp();
  const uploads = useUploads();
  const [docs, setDocs] = useState<DocumentRecord[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const list = await api.documents();
      setDocs(list.documents);
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(
    () =>
      onFinished(() => {
        void load();
      }),
    [load],
  );

  function take(files: FileList | null) {
    if (files && files.length > 0) addFiles([...files]);
  }

  function askDelete(doc: DocumentRecord) {
    setConfirm({
      title: 'Delete this document?',
      body: (
        <p>
          <strong>{doc.title}</strong> ({doc.source}) will be removed with its {doc.chunks} chunks and the entities and
          relations that no other document supports. This cannot be undone.
        </p>
      ),
      confirmLabel: 'Delete',
      async onConfirm() {
        try {
          await api.deleteDocument(doc.id);
          setDocs((list) => list && list.filter((d) => d.id !== doc.id));
          toast('success', `Deleted ${doc.title}.`);
        } catch (e) {
          toast('error', `Could not delete ${doc.title}: ${errorMessage(e)}`);
        }
        void load();
      },
    });
  }

  const finishedCount = uploads.filter((u) => u.phase === 'done' || u.phase === 'failed').length;

  return (
    <section class="view view-documents" aria-labelledby="view-title">
      <PageHeader title="Documents">Upload PDF, text, Markdown or HTML files; they are indexed and added to the graph.</PageHeader>

      {server?.api_key_required && !settings.apiKey && (
        <p class="notice" role="note" data-testid="api-key-notice">
          This server needs an API key to upload or delete documents. Set it under Settings.
        </p>
      )}

      <div
        class={`card dropzone${dragging ? ' dropzone-active' : ''}`}
        data-testid="dropzone"
        onDragEnter={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
        }}
        onDragLeave={(e) => {
          if (!(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          take(e.dataTransfer?.files ?? null);
        }}
      >
        <p class="dropzone-title">Drop files here</p>
        <p class="muted">or</p>
        <button type="button" class="btn btn-primary" onClick={() => input.current?.click()} data-testid="choose-files">
          Choose files…
        </button>
        <input
          ref={input}
          type="file"
          multiple
          accept={ACCEPT}
          class="visually-hidden"
          tabIndex={-1}
          aria-label="Files to upload"
          data-testid="file-input"
          onChange={(e) => {
            const el = e.currentTarget as HTMLInputElement;
            take(el.files);
            el.value = '';
          }}
        />
        <p class="hint">PDF, TXT, MD, HTML · several at once</p>
      </div>

      {uploads.length > 0 && (
        <section class="card uploads" aria-label="Uploads">
          <div class="section-head">
            <h2>Uploads</h2>
            {finishedCount > 0 && (
              <button type="button" class="btn btn-small" onClick={clearFinished}>
                Clear finished
              </button>
            )}
          </div>
          <ul class="upload-list" data-testid="uploads">
            {uploads.map((u) => (
              <UploadRow key={u.key} u={u} />
            ))}
          </ul>
        </section>
      )}

      <section class="card" aria-label="Stored documents">
        <div class="section-head">
          <h2>
            Stored documents {docs && <span class="count">{docs.length}</span>}
          </h2>
          <button type="button" class="btn btn-small" onClick={() => void load()} disabled={loading} data-testid="documents-refresh">
            Refresh
          </button>
        </div>
        <ErrorAlert message={error} testId="documents-error" onRetry={() => void load()} />
        {loading && !docs && <Spinner label="Loading documents…" />}
        {docs && docs.length === 0 && <Empty>No documents yet. Upload some above.</Empty>}
        {docs && docs.length > 0 && (
          <div class="table-wrap">
            <table class="table doc-table" data-testid="documents-table">
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">Pages</th>
                  <th scope="col" class="num">Chunks</th>
                  <th scope="col" class="num">Size</th>
                  <th scope="col">Added</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {docs.map((d) => (
                  <tr key={d.id} data-testid="document-row" data-id={d.id} data-source={d.source}>
                    <td data-label="Title">
                      <div class="doc-title">{d.title}</div>
                      <div class="muted small">
                        {d.source} · {d.media_type}
                      </div>
                    </td>
                    <td data-label="Status">
                      <span class="status status-done">ready</span>
                    </td>
                    <td data-label="Pages" class="num">
                      {d.pages}
                    </td>
                    <td data-label="Chunks" class="num">
                      {d.chunks}
                      {d.entities != null && <span class="muted small"> · {d.entities} entities</span>}
                    </td>
                    <td data-label="Size" class="num">
                      {formatBytes(d.bytes)}
                    </td>
                    <td data-label="Added">{formatDate(d.created_at)}</td>
                    <td class="actions">
                      <button
                        type="button"
                        class="btn btn-small btn-danger-quiet"
                        onClick={() => askDelete(d)}
                        data-testid="document-delete"
                        aria-label={`Delete ${d.title}`}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <ConfirmDialog request={confirm} onClose={() => setConfirm(null)} />
    </section>
  );
}
