/**
 * Find an entity by name (`GET /api/graph/entities?q=`): a text box with a list of matches
 * that follows the combobox pattern (arrow keys move, Enter picks, Escape closes).
 */

import { useEffect, useId, useRef, useState } from 'preact/hooks';

import { api } from '../api';
import { useApp } from '../context';
import { errorMessage } from '../lib/errors';
import type { EntityRecord, EntitySummary } from '../types';
import { TypeBadge } from './ui';

export function EntityPicker({ label, testId, value, onPick, placeholder }: {
  label: string;
  testId: string;
  /** The picked entity, shown in the box. */
  value: EntitySummary | null;
  onPick(entity: EntitySummary): void;
  placeholder?: string;
}) {
  const { toast } = useApp();
  const [text, setText] = useState(value?.name ?? '');
  const [options, setOptions] = useState<EntityRecord[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [loading, setLoading] = useState(false);
  const listId = useId();
  const timer = useRef<number | undefined>(undefined);
  const abort = useRef<AbortController | null>(null);
  const typed = useRef(false);

  useEffect(() => {
    setText(value?.name ?? '');
  }, [value?.id]);

  useEffect(() => {
    if (!typed.current) return;
    window.clearTimeout(timer.current);
    const q = text.trim();
    if (!q) {
      setOptions([]);
      setOpen(false);
      return;
    }
    timer.current = window.setTimeout(() => {
      abort.current?.abort();
      const ctl = new AbortController();
      abort.current = ctl;
      setLoading(true);
      api
        .entities(q, 10, ctl.signal)
        .then((r) => {
          setOptions(r.entities);
          setActive(r.entities.length > 0 ? 0 : -1);
          setOpen(true);
        })
        .catch((e) => {
          if (!ctl.signal.aborted) toast('error', `Entity search failed: ${errorMessage(e)}`);
        })
        .finally(() => {
          if (!ctl.signal.aborted) setLoading(false);
        });
    }, 200);
    return () => window.clearTimeout(timer.current);
  }, [text]);

  useEffect(() => () => abort.current?.abort(), []);

  function pick(e: EntityRecord) {
    typed.current = false;
    setText(e.name);
    setOpen(false);
    onPick({ id: e.id, name: e.name, type: e.type });
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(options.length - 1, a + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => Math.max(0, a - 1));
    } else if (e.key === 'Enter') {
      if (open && options[active]) {
        e.preventDefault();
        pick(options[active]!);
      }
    } else if (e.key === 'Escape') {
      setOpen(false);
    }
  }

  const showList = open && text.trim() !== '';

  return (
    <div class="picker" data-testid={testId}>
      <label class="field">
        <span class="label">{label}</span>
        <input
          type="text"
          role="combobox"
          aria-expanded={showList}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={showList && active >= 0 ? `${listId}-${active}` : undefined}
          autocomplete="off"
          dir="auto"
          value={text}
          placeholder={placeholder ?? 'Type a name…'}
          data-testid={`${testId}-input`}
          onInput={(e) => {
            typed.current = true;
            setText((e.currentTarget as HTMLInputElement).value);
          }}
          onKeyDown={onKeyDown}
          onFocus={() => options.length > 0 && typed.current && setOpen(true)}
          onBlur={() => window.setTimeout(() => setOpen(false), 150)}
        />
      </label>
      {loading && <span class="picker-loading spinner" aria-hidden="true" />}
      {showList && (
        <ul class="picker-list" role="listbox" id={listId}>
          {options.length === 0 && !loading && <li class="picker-empty">No entity matches.</li>}
          {options.map((o, i) => (
            <li
              key={o.id}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              class={`picker-option${i === active ? ' active' : ''}`}
              data-testid="entity-option"
              data-name={o.name}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(o);
              }}
              onMouseEnter={() => setActive(i)}
            >
              <span class="picker-name">{o.name}</span>
              <TypeBadge type={o.type} />
              <span class="muted small">{o.mentions} mentions</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
