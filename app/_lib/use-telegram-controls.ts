"use client";
// Telegram's own MainButton / BackButton / closing confirmation as hooks.
// Each is a no-op when the page is not inside a Telegram client; the screen
// then renders its in-page button instead (see Ui.native).
import { useEffect, useRef } from "react";
import { useUi } from "../_components/ui-context";
import { can, onTelegramEvent, send } from "./telegram";

/** Latest callback without re-subscribing to Telegram events on every render. */
function useLatest<T>(value: T) {
  const ref = useRef(value);
  useEffect(() => {
    ref.current = value;
  });
  return ref;
}

export interface MainButtonOptions {
  text: string;
  enabled?: boolean;
  progress?: boolean;
  onClick(): void;
}

export function useMainButton({ text, enabled = true, progress = false, onClick }: MainButtonOptions): void {
  const { tg, native } = useUi();
  const click = useLatest(onClick);
  const on = native && tg !== undefined;

  useEffect(() => {
    if (!on) return;
    const off = onTelegramEvent("main_button_pressed", () => click.current());
    return () => {
      off();
      send("web_app_setup_main_button", { is_visible: false });
    };
  }, [on, click]);

  useEffect(() => {
    if (!on) return;
    // Old clients need the colours on every call; the theme's button colours keep it native-looking.
    send("web_app_setup_main_button", {
      is_visible: true,
      is_active: enabled,
      is_progress_visible: progress,
      text,
      color: tg.themeParams.button_color ?? "#2481cc",
      text_color: tg.themeParams.button_text_color ?? "#ffffff",
    });
  }, [on, tg, text, enabled, progress]);
}

export function useBackButton(onBack: () => void): void {
  const { tg } = useUi();
  const back = useLatest(onBack);
  const on = tg !== undefined && can(tg, "web_app_setup_back_button");

  useEffect(() => {
    if (!on) return;
    send("web_app_setup_back_button", { is_visible: true });
    const off = onTelegramEvent("back_button_pressed", () => back.current());
    return () => {
      off();
      send("web_app_setup_back_button", { is_visible: false });
    };
  }, [on, back]);
}

/** Ask before Telegram closes the app while there is unsaved text. */
export function useClosingConfirmation(needed: boolean): void {
  const { tg } = useUi();
  const on = tg !== undefined && can(tg, "web_app_setup_closing_behavior");
  useEffect(() => {
    if (!on || !needed) return;
    send("web_app_setup_closing_behavior", { need_confirmation: true });
    return () => send("web_app_setup_closing_behavior", { need_confirmation: false });
  }, [on, needed]);
}
