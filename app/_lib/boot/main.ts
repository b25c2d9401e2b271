// The boot script: the one inline <script> in <head> (layout.tsx), run
// before any bundle is downloaded. It
// 1. applies Telegram's theme from the launch hash, so a dark client gets no
//    white flash (theme.ts repeats this on theme_changed: keep them in step);
// 2. starts fetching notes.list with the credentials the app will use, so the
//    request overlaps the ~160 KB of framework JavaScript being parsed
//    instead of waiting for hydration. The app takes the answer once
//    (boot-data.ts); on any failure it simply makes the normal tRPC call;
// 3. takes the session token out of the URL (`?session=`, put there by the
//    bot's /start button): it is kept for the tab in sessionStorage and in
//    window.__diarySession, and the address bar loses it before anything
//    else can see it (the webview's history, a shared link, Next's router);
// 4. when launched from Telegram (initData in the hash), paints that answer
//    as a static copy of the list screen the moment it arrives. On a slow
//    phone React needs another 0.5–1 s to parse, hydrate and render
//    (issue 5: notes visible ≤ 1 s on a 4× slower CPU). The copy uses the
//    same markup and classes as ListScreen/NoteCard (keep them in step;
//    tests/e2e/first-paint.spec.ts compares the two pixel for pixel), text
//    only through textContent (never HTML), and its buttons are
//    aria-disabled until ListScreen swaps it out in one frame (endPrepaint).
//    A launch with only a session token gets no copy: its language and name
//    come from the server (session.me), so the copy could not match.
//
// HOW IT SHIPS. script.ts puts `(${bootMain})(config)` into the page: this
// function's compiled source text, not a bundle. So bootMain must be
// self-contained, which this file keeps simple:
// - imports are `import type` only (erased), and bootMain is the file's
//   only value: everything else it needs is nested inside it, or comes in
//   `config` (plain JSON, built at build time by script.ts);
// - browser globals only: no process.env, no JSX, no enums, nothing a
//   compiler would turn into a call to a helper or module that is not there.
// Next compiles and minifies this file like any server code (targeting Node,
// so no syntax is lowered and no helpers are added); what ships is the
// minified text. The syntax is therefore shipped as written: keep to what
// the app's own bundles already require (Next's browser baseline: Chrome
// 111, Safari 16.4). The old "ES5 on purpose" rule is gone: any webview
// that cannot run this cannot run the app either.
// first-paint.spec.ts runs this script with every bundle blocked, so a
// missing reference fails it.
import type { Locale } from "../i18n";
import type { Note } from "../trpc";

/** The list screen's wording in one language (from i18n.ts, see script.ts). */
export interface ListText {
  title: string;
  newNote: string;
  edit: string;
  del: string;
  edited: string;
  /** messages.greeting split around the name: join it with the name. */
  greeting: string[];
  /** The word after the count, by Intl.PluralRules category. */
  count: Partial<Record<Intl.LDMLPluralRule, string>>;
}

/** Everything bootMain needs from the app, serialized into the page as JSON. */
export interface BootConfig {
  /** Tag of the static copy (boot-data.ts's PREPAINT_TAG). */
  tag: string;
  /** sessionStorage key of the session token (boot-data.ts's SESSION_TOKEN_KEY). */
  sessionKey: string;
  /** Language codes shown in Russian (i18n.ts's RUSSIAN_FAMILY, as pickLocale). */
  ru: string[];
  /** NoteCard's date format (i18n.ts's NOTE_DATE_FORMAT). */
  date: Intl.DateTimeFormatOptions;
  text: Record<Locale, ListText>;
}

/**
 * Runs in the page, once, before anything else. Never throws: each step
 * fails on its own, silently, and the app then does the work as usual.
 */
export function bootMain(config: BootConfig): void {
  const hash = new URLSearchParams(location.hash.slice(1));
  try {
    applyTheme();
  } catch {
    // No theme (or no sessionStorage): the app applies it after hydration.
  }
  let session: string | null = null;
  try {
    session = takeSessionToken();
  } catch {
    // The app reads the URL itself (credentials.ts).
  }
  try {
    prefetchNotes();
  } catch {
    // The app makes the request itself.
  }

  /** The token from ?session= (then gone from the URL), else the one kept for this tab. */
  function takeSessionToken(): string | null {
    const url = new URL(location.href);
    const fromUrl = url.searchParams.get("session");
    if (fromUrl === null) return sessionStorage.getItem(config.sessionKey);
    window.__diarySession = fromUrl;
    url.searchParams.delete("session");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    sessionStorage.setItem(config.sessionKey, fromUrl);
    return fromUrl;
  }

  /**
   * Telegram's theme params as --tg-theme-* variables on <html>, and
   * data-scheme (dark or light) from the background's luminance. Kept for
   * the tab in sessionStorage: a reload may come without the hash.
   */
  function applyTheme(): void {
    const key = "diary.theme";
    let json = hash.get("tgWebAppThemeParams");
    if (json) sessionStorage.setItem(key, json);
    else json = sessionStorage.getItem(key);
    if (!json) return;
    const theme = JSON.parse(json) as Record<string, unknown>;
    const root = document.documentElement;
    for (const [name, value] of Object.entries(theme)) {
      if (/^[a-z_]+$/.test(name) && typeof value === "string" && /^#[0-9a-f]{3,8}$/i.test(value)) {
        root.style.setProperty(`--tg-theme-${name.replace(/_/g, "-")}`, value);
      }
    }
    const bg = theme.bg_color;
    if (typeof bg === "string" && /^#[0-9a-f]{6}$/i.test(bg)) {
      const rgb = parseInt(bg.slice(1), 16);
      const luminance = 0.2126 * ((rgb >> 16) & 255) + 0.7152 * ((rgb >> 8) & 255) + 0.0722 * (rgb & 255);
      root.dataset.scheme = luminance < 128 ? "dark" : "light";
    }
  }

  /**
   * Starts notes.list with the app's credentials (initData, else the
   * session token) and leaves the promise in window.__diaryNotes for
   * boot-data.ts. With initData, paints the answer once there is a <body>.
   */
  function prefetchNotes(): void {
    const initData = hash.get("tgWebAppData");
    const auth: [name: string, value: string] | undefined = initData ? ["Authorization", `tma ${initData}`] : session ? ["X-Session-Token", session] : undefined;
    if (!auth) return;
    const [name, value] = auth;
    const data = fetch("/api/trpc/notes.list?batch=1&input=%7B%7D", { headers: { [name]: value } })
      .then((res) => (res.ok ? (res.json() as Promise<unknown>) : null))
      .catch(() => null);
    window.__diaryNotes = { header: `${name}: ${value}`, data };
    if (!initData) return;
    void data.then((body) => {
      // tRPC's batch answer: [{ result: { data: Note[] } }]
      const notes = (body as [{ result?: { data?: unknown } }] | null)?.[0]?.result?.data;
      if (!Array.isArray(notes) || !notes.length) return;
      if (document.body) paintNotes(notes as Note[], initData);
      else document.addEventListener("DOMContentLoaded", () => paintNotes(notes as Note[], initData));
    });
  }

  /**
   * The static copy of ListScreen with these notes, in the user's language
   * (pickLocale's rule) and with their name, as the first child of <body>.
   * Not if React already shows the list (a late answer).
   */
  function paintNotes(notes: Note[], initData: string): void {
    try {
      if (window.__diaryLive || !document.body) return;
      type LaunchUser = { id?: unknown; first_name?: unknown; language_code?: unknown } | null;
      let user: LaunchUser = null;
      try {
        user = JSON.parse(new URLSearchParams(initData).get("user") ?? "null") as LaunchUser;
      } catch {
        // A user we cannot read: default language, no name (as telegram.ts).
      }
      if (!user || typeof user.id !== "number") user = {};
      const code = typeof user.language_code === "string" ? user.language_code : "";
      const locale: Locale = !code || config.ru.includes(code.toLowerCase().split(/[-_]/)[0] ?? "") ? "ru" : "en";
      const t = config.text[locale];
      const firstName = typeof user.first_name === "string" ? user.first_name : "";

      const root = el(config.tag, "app");
      const header = el("header", "top", "", root);
      el("h1", "", t.title, header);
      // Greeting and count as two text nodes, as React renders them: text
      // shaped in one run lands on slightly different subpixels.
      const count = ` ${notes.length} ${t.count[new Intl.PluralRules(locale).select(notes.length)]}`;
      el("p", "subtitle", firstName ? t.greeting.join(firstName) : "", header).append(count);

      const list = el("ul", "notes", "", el("main", "content", "", root));
      list.setAttribute("aria-label", t.title);
      const dates = new Intl.DateTimeFormat(locale, config.date);
      notes.forEach((note, i) => {
        const textId = `prepaint-note-${i}`;
        const card = el("li", "card", "", list);
        card.setAttribute("data-testid", "note");
        card.setAttribute("aria-busy", "false");
        el("p", "note-text", note.text, card).id = textId;
        const meta = el("div", "note-meta", "", card);
        el("time", "", dates.format(new Date(note.created_at)), meta).setAttribute("datetime", note.created_at);
        // " · " and "edited" as two text nodes, as React renders them.
        if (note.updated_at !== note.created_at) el("span", "", " \u00b7 ", meta).append(t.edited);
        const actions = el("span", "note-actions", "", meta);
        button("btn-link", t.edit, actions, textId);
        button("btn-link danger", t.del, actions, textId);
      });
      if (!isNative()) button("btn btn-primary", t.newNote, el("footer", "action-bar", "", root));

      document.documentElement.lang = locale;
      document.body.insertBefore(root, document.body.firstChild);
    } catch {
      // No copy: React paints the list a little later.
    }
  }

  /** Telegram's own MainButton replaces our "New note" bar (as telegram.ts's `native`). */
  function isNative(): boolean {
    const w = window as { TelegramWebviewProxy?: { postEvent?: unknown }; external?: { notify?: unknown } };
    if (typeof w.TelegramWebviewProxy?.postEvent === "function" || typeof w.external?.notify === "function") return true;
    try {
      return window.self !== window.top;
    } catch {
      return true;
    }
  }

  /** A new element; text only through textContent, never as HTML. */
  function el(tag: string, className: string, text = "", parent?: Element): HTMLElement {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    parent?.appendChild(node);
    return node;
  }

  /** A button that looks live but does nothing until the app takes over. */
  function button(className: string, text: string, parent: Element, describedBy?: string): void {
    const node = el("button", className, text, parent) as HTMLButtonElement;
    node.type = "button";
    node.setAttribute("aria-disabled", "true");
    if (describedBy) node.setAttribute("aria-describedby", describedBy);
  }
}
