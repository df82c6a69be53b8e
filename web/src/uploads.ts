/**
 * Uploads in progress, outside any component so that switching views does not stop them: each
 * file is sent on its own request (so its progress is its own), then its ingest job is polled
 * until it is done or failed.
 */

import { api, uploadFile } from './api';
import { errorMessage } from './lib/errors';

export type UploadPhase = 'uploading' | 'queued' | 'running' | 'done' | 'failed';

export interface Upload {
  key: number;
  name: string;
  size: number;
  phase: UploadPhase;
  /** Bytes sent, 0..1. */
  sent: number;
  /** Ingest progress, 0..1, and the stage the job is in. */
  progress: number;
  stage: string;
  documentId: string | null;
  jobId: string | null;
  duplicate: boolean;
  error: string | null;
}

const POLL_MS = 700;

let uploads: Upload[] = [];
let nextKey = 1;
const listeners = new Set<() => void>();
const doneListeners = new Set<(u: Upload) => void>();

function emit(): void {
  for (const l of listeners) l();
}

function patch(key: number, p: Partial<Upload>): Upload | undefined {
  uploads = uploads.map((u) => (u.key === key ? { ...u, ...p } : u));
  emit();
  return uploads.find((u) => u.key === key);
}

function finished(u: Upload | undefined): void {
  if (u) for (const l of doneListeners) l(u);
}

export function getUploads(): Upload[] {
  return uploads;
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Called once per file when it reaches done or failed. */
export function onFinished(listener: (u: Upload) => void): () => void {
  doneListeners.add(listener);
  return () => doneListeners.delete(listener);
}

export function clearFinished(): void {
  uploads = uploads.filter((u) => u.phase !== 'done' && u.phase !== 'failed');
  emit();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function poll(key: number, jobId: string): Promise<void> {
  let failures = 0;
  for (;;) {
    try {
      const job = await api.job(jobId);
      failures = 0;
      if (job.status === 'done') {
        finished(patch(key, { phase: 'done', progress: 1, stage: job.stage }));
        return;
      }
      if (job.status === 'failed') {
        finished(patch(key, { phase: 'failed', stage: job.stage, error: job.error ?? 'ingest failed' }));
        return;
      }
      patch(key, { phase: job.status, progress: job.progress, stage: job.stage });
    } catch (e) {
      // A blip (a restart, a 503 while draining) is retried a few times before giving up.
      if (++failures >= 5) {
        finished(patch(key, { phase: 'failed', error: `Lost track of the ingest job: ${errorMessage(e)}` }));
        return;
      }
    }
    await sleep(POLL_MS);
  }
}

async function start(key: number, file: File): Promise<void> {
  try {
    const res = await uploadFile(file, (sent) => patch(key, { sent }));
    const accepted = res.documents[0];
    const documentId = accepted?.document_id ?? res.document_id;
    const jobId = accepted?.job_id ?? res.job_id;
    const duplicate = accepted?.duplicate ?? false;
    patch(key, { sent: 1, documentId, jobId, duplicate, phase: 'queued' });
    if (jobId) await poll(key, jobId);
    else finished(patch(key, { phase: 'done', progress: 1, stage: 'already stored' }));
  } catch (e) {
    finished(patch(key, { phase: 'failed', error: errorMessage(e) }));
  }
}

/** Start uploading files; returns at once. */
export function addFiles(files: File[]): void {
  for (const file of files) {
    const key = nextKey++;
    uploads = [
      {
        key,
        name: file.name,
        size: file.size,
        phase: 'uploading',
        sent: 0,
        progress: 0,
        stage: '',
        documentId: null,
        jobId: null,
        duplicate: false,
        error: null,
      },
      ...uploads,
    ];
    emit();
    void start(key, file);
  }
}
