import { describe, expect, it } from 'vitest';

import {
  FALLBACK_DEFAULTS,
  STORAGE_KEY,
  type KeyValueStorage,
  type Settings,
  loadSettings,
  saveSettings,
} from '../src/lib/settings';

class MemoryStorage implements KeyValueStorage {
  map = new Map<string, string>();
  getItem(k: string) {
    return this.map.has(k) ? this.map.get(k)! : null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

class BrokenStorage implements KeyValueStorage {
  getItem(): string | null {
    throw new Error('SecurityError');
  }
  setItem(): void {
    throw new Error('QuotaExceededError');
  }
  removeItem(): void {
    throw new Error('SecurityError');
  }
}

const server = { mode: 'hybrid' as const, topK: 8, topKMax: 50 };

describe('settings persistence', () => {
  it('starts from the server defaults', () => {
    expect(loadSettings(new MemoryStorage(), server)).toEqual({
      mode: 'hybrid',
      topK: 8,
      model: '',
      language: '',
      apiKey: '',
    });
  });

  it('round-trips what the user chose', () => {
    const storage = new MemoryStorage();
    const chosen: Settings = { mode: 'keyword', topK: 12, model: 'openai/gpt-4o-mini', language: 'ar', apiKey: 'k-123' };
    expect(saveSettings(storage, chosen, server)).toBe(true);
    expect(loadSettings(storage, server)).toEqual(chosen);
  });

  it('does not store values equal to the default, so they follow a changed default', () => {
    const storage = new MemoryStorage();
    saveSettings(storage, { mode: 'hybrid', topK: 8, model: '', language: '', apiKey: '' }, server);
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
    expect(loadSettings(storage, { ...server, topK: 10 }).topK).toBe(10);
  });

  it('replaces invalid stored values with defaults', () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, JSON.stringify({ mode: 'psychic', topK: 500, model: 42, apiKey: ['x'] }));
    expect(loadSettings(storage, server)).toEqual({ mode: 'hybrid', topK: 8, model: '', language: '', apiKey: '' });
    storage.setItem(STORAGE_KEY, JSON.stringify({ topK: 2.5 }));
    expect(loadSettings(storage, server).topK).toBe(8);
  });

  it('survives corrupt JSON and non-object values', () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, '{not json');
    expect(loadSettings(storage, server).mode).toBe('hybrid');
    storage.setItem(STORAGE_KEY, '[1,2]');
    expect(loadSettings(storage, server).topK).toBe(8);
  });

  it('works without storage, or with storage that throws', () => {
    expect(loadSettings(null).topK).toBe(FALLBACK_DEFAULTS.topK);
    expect(loadSettings(new BrokenStorage(), server).topK).toBe(8);
    expect(saveSettings(new BrokenStorage(), loadSettings(null), server)).toBe(false);
    expect(saveSettings(null, loadSettings(null), server)).toBe(false);
  });

  it('trims text fields', () => {
    const storage = new MemoryStorage();
    saveSettings(storage, { mode: 'local', topK: 3, model: '  m  ', language: ' fr ', apiKey: ' key ' }, server);
    expect(loadSettings(storage, server)).toEqual({ mode: 'local', topK: 3, model: 'm', language: 'fr', apiKey: 'key' });
  });
});
