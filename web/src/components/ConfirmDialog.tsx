/**
 * An in-page confirmation (a modal `<dialog>`: focus stays inside, Escape cancels). The confirm
 * button runs `onConfirm`; while it is pending both buttons are disabled.
 */

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface ConfirmRequest {
  title: string;
  body: ComponentChildren;
  confirmLabel: string;
  onConfirm(): Promise<void> | void;
}

export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | null; onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (request && !dialog.open) dialog.showModal();
    if (!request && dialog.open) dialog.close();
  }, [request]);

  async function confirm() {
    if (!request) return;
    setBusy(true);
    try {
      await request.onConfirm();
    } finally {
      setBusy(false);
      onClose();
    }
  }

  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="confirm-title"
      data-testid="confirm-dialog"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onClose();
      }}
    >
      {request && (
        <div class="dialog-body">
          <h2 id="confirm-title">{request.title}</h2>
          <div class="dialog-text">{request.body}</div>
          <div class="dialog-actions">
            <button
              type="button"
              class="btn"
              onClick={onClose}
              disabled={busy}
              data-testid="confirm-cancel"
              autofocus
            >
              Cancel
            </button>
            <button
              type="button"
              class="btn btn-danger"
              onClick={confirm}
              disabled={busy}
              data-testid="confirm-ok"
            >
              {busy ? 'Working…' : request.confirmLabel}
            </button>
          </div>
        </div>
      )}
    </dialog>
  );
}
