"use client";
// What every screen needs from the shell: the language, and Telegram's
// capabilities behind one small interface, so components never check
// "are we in Telegram?" themselves.
import { createContext, useContext } from "react";
import type { Locale, Messages } from "../_lib/i18n";
import type { ConfirmText, Haptic, LaunchContext } from "../_lib/telegram";

export interface Ui {
  locale: Locale;
  t: Messages;
  /** Launch context when opened from Telegram; undefined with a bare session link. */
  tg: LaunchContext | undefined;
  /** Telegram's MainButton/BackButton drive the screen instead of in-page buttons. */
  native: boolean;
  haptic(kind: Haptic): void;
  /** Telegram popup when available, else the in-app dialog. */
  confirm(text: ConfirmText): Promise<boolean>;
}

export const UiContext = createContext<Ui | null>(null);

export function useUi(): Ui {
  const ui = useContext(UiContext);
  if (!ui) throw new Error("useUi outside <UiProvider>");
  return ui;
}
