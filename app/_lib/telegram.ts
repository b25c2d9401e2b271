// The Mini App's only door to Telegram. We use @telegram-apps/bridge (the
// transport layer of the Telegram Mini Apps SDK, ~9 KB gzip for what we use)
// instead of @telegram-apps/sdk-react (~20 KB+) or @tma.js/* (~21-29 KB, they
// pull fp-ts): issue 5 caps the whole first load at 120 KB gzip.
// https://docs.telegram-mini-apps.com/platform/methods
import { hasWebviewProxy, isIframe, on, postEvent, retrieveRawLaunchParams, supports, type MethodName } from "@telegram-apps/bridge";
import { applyTheme, type ThemeParams } from "./theme";

export interface TelegramUser {
  id: number;
  firstName: string;
  lastName?: string;
  username?: string;
  languageCode?: string;
}

export interface LaunchContext {
  /** initData exactly as Telegram passed it: the server checks its HMAC. */
  rawInitData: string;
  user: TelegramUser | undefined;
  version: string;
  platform: string;
  themeParams: ThemeParams;
  /** Telegram's own controls (MainButton, BackButton, popups) can be driven. */
  native: boolean;
}

/**
 * The launch parameters as Telegram passed them. The SDK looks in the URL,
 * the navigation entry (the hash can be gone after an in-app navigation) and
 * its session copy. It also rejects initData without the Ed25519
 * `signature` field, which clients older than Bot API 8.0 do not send; those
 * users are not locked out: we read the hash ourselves, and the server's HMAC
 * check decides either way.
 */
function rawLaunchParams(): URLSearchParams | undefined {
  try {
    return new URLSearchParams(retrieveRawLaunchParams());
  } catch (error) {
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.has("tgWebAppData")) return hash;
    if (process.env.NODE_ENV === "development") console.warn("No Telegram launch params:", error);
    return undefined;
  }
}

function parseJson(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

function parseUser(initData: string): TelegramUser | undefined {
  const u = parseJson(new URLSearchParams(initData).get("user"));
  if (typeof u !== "object" || u === null) return undefined;
  const r = u as Record<string, unknown>;
  if (typeof r.id !== "number") return undefined;
  return { id: r.id, firstName: str(r.first_name) ?? "", lastName: str(r.last_name), username: str(r.username), languageCode: str(r.language_code) };
}

/** Undefined outside Telegram (no launch params). */
export function readLaunchContext(): LaunchContext | undefined {
  const params = rawLaunchParams();
  const raw = params?.get("tgWebAppData");
  if (!params || !raw) return undefined;
  const theme = parseJson(params.get("tgWebAppThemeParams"));
  return {
    rawInitData: raw,
    user: parseUser(raw),
    version: params.get("tgWebAppVersion") ?? "6.0",
    platform: params.get("tgWebAppPlatform") ?? "unknown",
    themeParams: typeof theme === "object" && theme !== null ? (theme as ThemeParams) : {},
    // A page opened in a plain browser with a copied hash has launch params
    // but nobody to talk to: postEvent would throw, so render our own buttons.
    native: isIframe() || hasWebviewProxy(window) || hasExternalNotify(),
  };
}

function hasExternalNotify(): boolean {
  const external = (window as { external?: { notify?: unknown } }).external;
  return typeof external?.notify === "function";
}

/**
 * postEvent that never throws: Telegram methods are fire-and-forget, and an
 * unknown environment or an old client must not break the page (the in-page
 * fallback covers it). The cast keeps postEvent's overloaded signature.
 */
export const send = ((...args: unknown[]) => {
  try {
    (postEvent as (...a: unknown[]) => void)(...args);
  } catch {
    // see above
  }
}) as typeof postEvent;

export function can(ctx: LaunchContext, method: MethodName): boolean {
  return ctx.native && supports(method, ctx.version);
}

function setPx(name: string, value: number | undefined): void {
  if (typeof value === "number" && Number.isFinite(value)) {
    document.documentElement.style.setProperty(name, `${value}px`);
  }
}

interface Insets {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

function setInsets(prefix: string, insets: Insets): void {
  for (const side of ["top", "bottom", "left", "right"] as const) setPx(`${prefix}-${side}`, insets[side]);
}

/**
 * Called once after mount: tells Telegram we are ready, and keeps theme,
 * viewport and safe areas mirrored into CSS variables (the same names
 * Telegram's own telegram-web-app.js uses). Returns the unsubscribe.
 */
export function bootTelegram(ctx: LaunchContext): () => void {
  const offs = [
    on("theme_changed", ({ theme_params }) => {
      applyTheme(theme_params as ThemeParams);
      paintChrome(ctx, theme_params as ThemeParams);
    }),
    on("viewport_changed", ({ height, is_state_stable }) => {
      setPx("--tg-viewport-height", height);
      if (is_state_stable) setPx("--tg-viewport-stable-height", height);
    }),
    on("safe_area_changed", (insets) => setInsets("--tg-safe-area-inset", insets)),
    on("content_safe_area_changed", (insets) => setInsets("--tg-content-safe-area-inset", insets)),
  ];
  if (ctx.native) {
    send("web_app_ready");
    send("web_app_expand");
    send("web_app_request_theme");
    send("web_app_request_viewport");
    if (supports("web_app_request_safe_area", ctx.version)) send("web_app_request_safe_area");
    if (supports("web_app_request_content_safe_area", ctx.version)) send("web_app_request_content_safe_area");
    paintChrome(ctx, ctx.themeParams);
  }
  return () => offs.forEach((off) => off());
}

/** Header and bottom bar in the page's own background, so the app looks seamless. */
function paintChrome(ctx: LaunchContext, theme: ThemeParams): void {
  if (!ctx.native) return;
  if (supports("web_app_set_header_color", ctx.version)) send("web_app_set_header_color", { color_key: "bg_color" });
  const bg = theme.bg_color;
  if (bg && supports("web_app_set_background_color", ctx.version)) send("web_app_set_background_color", { color: bg });
  const bar = theme.bottom_bar_bg_color ?? theme.secondary_bg_color;
  if (bar && supports("web_app_set_bottom_bar_color", ctx.version)) send("web_app_set_bottom_bar_color", { color: bar });
}

export type Haptic = "tap" | "success" | "error" | "warning";

export function haptic(ctx: LaunchContext, kind: Haptic): void {
  if (!can(ctx, "web_app_trigger_haptic_feedback")) return;
  if (kind === "tap") send("web_app_trigger_haptic_feedback", { type: "impact", impact_style: "light" });
  else send("web_app_trigger_haptic_feedback", { type: "notification", notification_type: kind });
}

export interface ConfirmText {
  title: string;
  message: string;
  ok: string;
}

/** Telegram's native popup; resolves true when the destructive button was chosen. */
export function nativeConfirm(text: ConfirmText): Promise<boolean> {
  return new Promise((resolve) => {
    const off = on("popup_closed", ({ button_id }) => {
      off();
      resolve(button_id === "ok");
    });
    send("web_app_open_popup", {
      title: text.title,
      message: text.message,
      buttons: [
        { id: "ok", type: "destructive", text: text.ok },
        { id: "cancel", type: "cancel" },
      ],
    });
  });
}

export { on as onTelegramEvent };
