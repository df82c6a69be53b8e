/**
 * User settings (retrieval mode, number of sources, answer model, answer language, API key),
 * kept in localStorage. Only what the user chose is stored; anything missing or invalid falls
 * back to the server's defaults from `GET /api/settings`, so a changed server default reaches
 * users who never touched the setting.
 */

export const MODES = ['hybrid', 'naive', 'keyword', 'local'] as const;
export type Mode = (typeof MODES)[number];

export interface Settings {
  mode: Mode;
  topK: number;
  /** Answer model override; "" = the server's configured model. */
  model: string;
  /** Answer language (BCP 47 tag); "" = as the sources are written. */
  language: string;
  /** Sent as `Authorization: Bearer <key>` when set. */
  apiKey: string;
}

/** What the server says the defaults and limits are. */
export interface SettingsDefaults {
  mode: Mode;
  topK: number;
  topKMax: number;
}

export const FALLBACK_DEFAULTS: SettingsDefaults = { mode: 'hybrid', topK: 6, topKMax: 100 };

export const STORAGE_KEY = 'sociograph.settings.v1';

/** The part of the Web Storage API used here (so tests can pass a fake). */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export function isMode(value: unknown): value is Mode {
  return typeof value === 'string' && (MODES as readonly string[]).includes(value);
}

function stored(storage: KeyValueStorage | null): Record<string, unknown> {
  if (!storage) return {};
  try {
    const raw = storage.getItem(STORAGE_KEY);
    if (!raw) return {};
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    // Corrupt JSON, or storage disabled (private windows throw on access).
    return {};
  }
}

function cleanString(v: unknown, max: number): string {
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
}

/** The settings in effect: stored choices over the server's defaults. */
export function loadSettings(
  storage: KeyValueStorage | null,
  defaults: SettingsDefaults = FALLBACK_DEFAULTS,
): Settings {
  const s = stored(storage);
  const topK =
    typeof s.topK === 'number' && Number.isInteger(s.topK) && s.topK >= 1 && s.topK <= defaults.topKMax
      ? s.topK
      : defaults.topK;
  return {
    mode: isMode(s.mode) ? s.mode : defaults.mode,
    topK,
    model: cleanString(s.model, 200),
    language: cleanString(s.language, 35),
    apiKey: typeof s.apiKey === 'string' ? s.apiKey.trim() : '',
  };
}

/**
 * Store the user's choices. Values equal to the server default are not stored, so they keep
 * following the default. Returns false if the browser refused to store them.
 */
export function saveSettings(
  storage: KeyValueStorage | null,
  settings: Settings,
  defaults: SettingsDefaults = FALLBACK_DEFAULTS,
): boolean {
  if (!storage) return false;
  const out: Record<string, unknown> = {};
  if (settings.mode !== defaults.mode) out.mode = settings.mode;
  if (settings.topK !== defaults.topK) out.topK = settings.topK;
  if (settings.model.trim()) out.model = settings.model.trim();
  if (settings.language.trim()) out.language = settings.language.trim();
  if (settings.apiKey.trim()) out.apiKey = settings.apiKey.trim();
  try {
    if (Object.keys(out).length === 0) storage.removeItem(STORAGE_KEY);
    else storage.setItem(STORAGE_KEY, JSON.stringify(out));
    return true;
  } catch {
    return false;
  }
}

/** `localStorage`, or null where it is unavailable. */
export function browserStorage(): KeyValueStorage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
