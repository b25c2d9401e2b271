// Telegram theme params → CSS variables. The same logic runs twice: in the
// inline boot script before first paint (no white flash in a dark client,
// see boot/main.ts) and here on `theme_changed`. Keep the two in step.

export type ThemeParams = Partial<Record<string, `#${string}`>>;

const COLOR = /^#[0-9a-f]{3,8}$/i;
const KEY = /^[a-z_]+$/;

/** Relative luminance below ~0.5 reads as a dark theme. */
export function isDark(hex: string): boolean {
  const h = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, "$&$&") : hex;
  const n = parseInt(h.slice(1, 7), 16);
  if (Number.isNaN(n)) return false;
  const r = (n >> 16) & 255;
  const g = (n >> 8) & 255;
  const b = n & 255;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
}

export function applyTheme(theme: ThemeParams): void {
  const root = document.documentElement;
  for (const [key, value] of Object.entries(theme)) {
    if (KEY.test(key) && value && COLOR.test(value)) root.style.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
  }
  if (theme.bg_color) root.dataset.scheme = isDark(theme.bg_color) ? "dark" : "light";
}
