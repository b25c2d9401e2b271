// How this page proves who it is. Telegram's signed initData is the first
// credential, but the server takes it only until auth_date is older than
// INITDATA_MAX_AGE_SECONDS (24 h by default), and a webview can stay open,
// or be reloaded with the same launch hash, long after that. So the page
// also holds a session token (the /start button's ?session=, or one from
// session.start while initData is still good), and when the server refuses
// initData it goes on with the token alone. The two are never sent
// together: the server refuses a pair when either one is bad.
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "@/server/api/root";
import { SESSION_TOKEN_KEY } from "./boot-data";

/** The token from ?session= (the boot script normally took it already), else the one kept for this tab. */
export function launchSessionToken(): string | undefined {
  if (window.__diarySession) return window.__diarySession;
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("session");
  if (fromUrl === null) return readKept() ?? undefined;
  // The boot script did not run (or failed): take it out of the address bar here.
  url.searchParams.delete("session");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  keep(fromUrl);
  return fromUrl;
}

function readKept(): string | null {
  try {
    return sessionStorage.getItem(SESSION_TOKEN_KEY);
  } catch {
    return null;
  }
}

/** For the tab only: a webview reload keeps it, a new launch brings fresh initData anyway. */
function keep(token: string): void {
  try {
    sessionStorage.setItem(SESSION_TOKEN_KEY, token);
  } catch {
    // Without storage the token lasts as long as the page.
  }
}

export interface CredentialsInit {
  initData?: string;
  /** The Telegram user initData names: a token is used in its place only if it is this user's. */
  userId?: number;
  token?: string;
}

export class Credentials {
  private initData: string | undefined;
  private token: string | undefined;
  private readonly userId: number | undefined;
  /** Whether the token is known to be userId's (it came from session.start with this initData). */
  private tokenChecked = false;
  private fallingBack: Promise<boolean> | undefined;

  constructor({ initData, userId, token }: CredentialsInit) {
    this.initData = initData;
    this.userId = userId;
    this.token = token;
    if (token) keep(token);
  }

  /** The one credential to send: initData while the server takes it, else the token. */
  headers(): Record<string, string> {
    if (this.initData !== undefined) return { Authorization: `tma ${this.initData}` };
    return this.token ? { "X-Session-Token": this.token } : {};
  }

  /** headers() as one `Name: value` line (how the boot script labels its prefetch). */
  headerLine(): string {
    const [name, value] = Object.entries(this.headers())[0] ?? [];
    return `${name}: ${value}`;
  }

  /**
   * After the server refused initData (401): switch to the token for good,
   * if there is one and it is the same user's. True when a retry with
   * headers() can succeed. A token that came with the URL could be someone
   * else's (a forwarded link): then the page stays with initData and fails,
   * rather than show another person's diary.
   */
  fallBack(): Promise<boolean> {
    if (this.initData === undefined || !this.token) return Promise.resolve(false);
    return (this.fallingBack ??= this.tokenIsTheUsers().then((ok) => {
      if (ok) this.initData = undefined;
      else this.fallingBack = undefined;
      return ok;
    }));
  }

  private async tokenIsTheUsers(): Promise<boolean> {
    if (this.tokenChecked || this.userId === undefined) return this.tokenChecked;
    const token = this.token as string;
    try {
      const { user } = await createTRPCClient<AppRouter>({ links: [httpLink({ url: "/api/trpc", headers: { "X-Session-Token": token } })] }).session.me.query();
      this.tokenChecked = user.id === this.userId;
    } catch {
      this.tokenChecked = false;
    }
    return this.tokenChecked;
  }

  /**
   * While initData is good, make sure a token is there for when it no
   * longer is: session.start restores the one we hold when it is this
   * user's, or issues a new one. Not batched with other calls, so its
   * answer cannot mix with theirs.
   */
  async ensureToken(): Promise<void> {
    if (this.initData === undefined || this.tokenChecked) return;
    const headers: Record<string, string> = { Authorization: `tma ${this.initData}` };
    if (this.token) headers["X-Session-Token"] = this.token;
    try {
      // httpLink sends a mutation without input as a POST with no body, which
      // older versions of this server refused; {} is valid input for any of them.
      const { token } = await createTRPCClient<AppRouter>({ links: [httpLink({ url: "/api/trpc", headers })] }).session.start.mutate({});
      this.token = token;
      this.tokenChecked = true;
      keep(token);
    } catch {
      // initData already refused, or another user's token, or offline: fallBack() decides later.
    }
  }
}
