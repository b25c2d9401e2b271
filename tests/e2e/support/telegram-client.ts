// A stand-in for the Telegram client around the webview: records every
// method the Mini App posts (web_app_setup_main_button, web_app_open_popup,
// haptics…) through window.TelegramWebviewProxy, as Telegram's mobile clients
// expose it, and delivers events back through window.Telegram.WebView.receiveEvent.
import type { Page } from "@playwright/test";

export interface PostedEvent {
  name: string;
  data: Record<string, unknown> | undefined;
}

declare global {
  interface Window {
    __tgPosted?: PostedEvent[];
    Telegram?: { WebView?: { receiveEvent?: (name: string, data?: unknown) => void } };
  }
}

export async function installTelegramClient(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__tgPosted = [];
    (window as unknown as { TelegramWebviewProxy: unknown }).TelegramWebviewProxy = {
      postEvent(name: string, data?: string) {
        window.__tgPosted?.push({ name, data: data ? (JSON.parse(data) as Record<string, unknown>) : undefined });
      },
    };
  });
}

export async function posted(page: Page, name?: string): Promise<PostedEvent[]> {
  const all = await page.evaluate(() => window.__tgPosted ?? []);
  return name ? all.filter((e) => e.name === name) : all;
}

/** The last value the app gave a method, e.g. the MainButton's current state. */
export async function lastPosted(page: Page, name: string): Promise<Record<string, unknown> | undefined> {
  return (await posted(page, name)).at(-1)?.data;
}

export async function sendTelegramEvent(page: Page, name: string, data?: unknown): Promise<void> {
  await page.evaluate(([n, d]) => window.Telegram?.WebView?.receiveEvent?.(n as string, d), [name, data] as const);
}
