/** Settings: retrieval mode, sources per answer, answer model, API key. Saved in this browser. */

import { useEffect, useRef, useState } from 'preact/hooks';

import { useApp } from '../context';
import { MODES, type Settings, isMode } from '../lib/settings';

export function SettingsDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  const { settings, updateSettings, server, defaults } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const [draft, setDraft] = useState<Settings>(settings);
  const [showKey, setShowKey] = useState(false);

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open) {
      setDraft(settings);
      if (!d.open) d.showModal();
    } else if (d.open) d.close();
  }, [open]);

  function save(e: Event) {
    e.preventDefault();
    updateSettings(draft);
    onClose();
  }

  const modes = server?.modes?.filter(isMode) ?? [...MODES];

  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="settings-title"
      data-testid="settings-dialog"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <form class="dialog-body" onSubmit={save}>
        <h2 id="settings-title">Settings</h2>
        <p class="muted small">Saved in this browser. Empty fields use the server’s defaults.</p>
        <label class="field">
          <span class="label">Retrieval mode</span>
          <select value={draft.mode} onChange={(e) => {
            const v = (e.currentTarget as HTMLSelectElement).value;
            if (isMode(v)) setDraft({ ...draft, mode: v });
          }}>
            {modes.map((m) => (
              <option key={m} value={m}>
                {m}
                {m === defaults.mode ? ' (default)' : ''}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="label">Sources per answer (1–{defaults.topKMax})</span>
          <input
            type="number"
            min={1}
            max={defaults.topKMax}
            required
            value={draft.topK}
            data-testid="settings-topk"
            onInput={(e) => setDraft({ ...draft, topK: Number((e.currentTarget as HTMLInputElement).value) })}
          />
        </label>
        <label class="field">
          <span class="label">Answer model</span>
          <input
            type="text"
            value={draft.model}
            placeholder={server?.model ?? (server?.generator === 'extractive' ? 'none configured (extractive answers)' : 'server default')}
            onInput={(e) => setDraft({ ...draft, model: (e.currentTarget as HTMLInputElement).value })}
            maxLength={200}
            spellcheck={false}
            autocomplete="off"
          />
        </label>
        <label class="field">
          <span class="label">API key {server?.api_key_required ? '(required for uploads and deletions)' : '(optional)'}</span>
          <span class="input-with-btn">
            <input
              type={showKey ? 'text' : 'password'}
              value={draft.apiKey}
              autocomplete="off"
              spellcheck={false}
              data-testid="settings-apikey"
              onInput={(e) => setDraft({ ...draft, apiKey: (e.currentTarget as HTMLInputElement).value })}
            />
            <button type="button" class="btn btn-small" onClick={() => setShowKey(!showKey)} aria-pressed={showKey}>
              {showKey ? 'Hide' : 'Show'}
            </button>
          </span>
          <span class="hint">Sent as “Authorization: Bearer …”. Stored in this browser’s local storage.</span>
        </label>
        {server && (
          <p class="muted small server-info">
            Server {server.version} · answers: {server.generator === 'llm' ? `language model${server.model ? ` (${server.model})` : ''}` : 'extractive (no language model)'}
            {server.translation ? ' · translation available' : ''}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid="settings-save">
            Save
          </button>
        </div>
      </form>
    </dialog>
  );
}
