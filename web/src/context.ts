/** What every view shares: settings (user + server), toasts. */

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

import type { Settings, SettingsDefaults } from './lib/settings';
import type { ServerSettings } from './types';

export type ToastKind = 'error' | 'info' | 'success';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

export interface AppContextValue {
  settings: Settings;
  updateSettings(next: Settings): void;
  server: ServerSettings | null;
  defaults: SettingsDefaults;
  toast(kind: ToastKind, message: string): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp outside <AppContext.Provider>');
  return ctx;
}
