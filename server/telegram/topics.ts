// Topic mode (SPEC §7): whether the service may use forum topics, and what a
// user's topic is called.
//
// Whether topics can be used is Telegram's to say: the group must be a forum
// and the bot an administrator allowed to manage topics. The check runs in
// the background at start; until it succeeds (or when it says no) the
// service works in reply mode, so a Telegram outage never holds start-up.
import type { Api } from "grammy";
import type { Logger } from "../logger.js";
import { Backoff } from "../outbox/backoff.js";
import { classifySendError } from "./send-errors.js";

/** Telegram's limit on a topic name (createForumTopic: 1-128 characters). */
export const TOPIC_NAME_MAX = 128;

/** `<user_name> · <user_id>`; a long name is cut (the id is what agents search for, so it stays whole). */
export function topicName(userName: string | null, userId: string): string {
  const suffix = ` · ${userId}`;
  const name = (userName ?? "").replace(/\s+/g, " ").trim() || "Пользователь";
  if (name.length + suffix.length <= TOPIC_NAME_MAX) return `${name}${suffix}`;
  const room = TOPIC_NAME_MAX - suffix.length - 1;
  if (room < 1) return userId.slice(0, TOPIC_NAME_MAX);
  let cut = name.slice(0, room);
  // never leave half of a surrogate pair
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}…${suffix}`;
}

export interface TopicModeStatus {
  enabled: boolean;
  /** why topics are not in use (null while they are) */
  reason: string | null;
}

/**
 * The NOTIFY channel on which the sender tells the other instances that
 * Telegram took topic mode away (disable), so every /health says so.
 */
export const TOPIC_MODE_CHANNEL = "topic_mode";

export interface TopicModeDeps {
  /** SUPPORT_TOPICS=on */
  wanted: boolean;
  api: Api | null;
  /** the group's numeric id (resolving an @username) */
  chatId: (() => Promise<number>) | null;
  /** the bot's own user id */
  botId: () => Promise<number>;
  logger: Logger;
  backoff?: Backoff;
  /** tells the other instances about a disable() (TOPIC_MODE_CHANNEL); they call disabledElsewhere */
  announce?: (reason: string) => Promise<void>;
}

const NOT_FORUM = "the support group is not a forum: turn on Topics in the group's settings (Edit → Topics), then restart the service";
const NO_RIGHTS = "the bot is not an administrator of the support group with the right to manage topics: make it an administrator with \"Manage topics\", then restart the service";

export class TopicMode {
  private state: TopicModeStatus;
  private timer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private stopped = false;
  private lastLogged: string | null = null;
  private readonly backoff: Backoff;
  private firstAnswer = false;
  /** an instance that does not send checks without log lines: the sender's are the operator's */
  private quiet = false;

  constructor(private readonly deps: TopicModeDeps) {
    this.backoff = deps.backoff ?? new Backoff(2_000, 5 * 60_000);
    const reason = !deps.wanted ? "SUPPORT_TOPICS is off" : !deps.api || !deps.chatId ? "topic mode needs BOT_TOKEN and GROUP_CHAT_ID" : "not checked yet: Telegram has not answered";
    this.state = { enabled: false, reason };
  }

  get enabled(): boolean {
    return this.state.enabled;
  }

  /**
   * True until the first check has an outcome (an answer, or Telegram
   * unreachable). Delivery waits for it, so that queued posts do not go out
   * in reply mode one round trip before topic mode turns on after a restart.
   * It is one attempt only: while Telegram cannot be reached, reply mode.
   */
  get deciding(): boolean {
    return this.deps.wanted && this.deps.api !== null && this.deps.chatId !== null && !this.firstAnswer && !this.stopped;
  }

  status(): TopicModeStatus {
    return { ...this.state };
  }

  /** Starts the check in the background; never throws. */
  start({ quiet = false }: { quiet?: boolean } = {}): void {
    if (!this.deps.wanted || !this.deps.api || !this.deps.chatId) return;
    this.quiet = quiet;
    // Started again when this process takes the sender lease back (every
    // instance checks at start, so each /health can say what it found).
    this.stopped = false;
    if (this.timer) clearTimeout(this.timer);
    void this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Telegram took the rights away after the check (createForumTopic refused): back to reply mode. */
  async disable(reason: string): Promise<void> {
    this.state = { enabled: false, reason };
    this.deps.logger.error({ reason }, `topic mode is off: ${reason}; support messages go into the group's General topic, as in reply mode. Fix it and restart the service`);
    await this.deps.announce?.(reason).catch((error: unknown) => this.deps.logger.warn({ err: error }, "could not tell the other instances that topic mode is off; their /health says so after their restart"));
  }

  /** Another instance's disable(): the sender logged it; this one only reports it. */
  disabledElsewhere(reason: string): void {
    if (!this.deps.wanted) return;
    this.state = { enabled: false, reason };
  }

  private async check(): Promise<void> {
    const { api, chatId, logger } = this.deps;
    if (this.stopped || !api || !chatId) return;
    try {
      await this.attempt(api, chatId, logger);
    } finally {
      this.firstAnswer = true;
    }
  }

  private async attempt(api: Api, chatId: () => Promise<number>, logger: Logger): Promise<void> {
    try {
      const id = await chatId();
      const chat = await api.getChat(id);
      if (chat.type !== "supergroup" || !("is_forum" in chat) || chat.is_forum !== true) return this.refuse(NOT_FORUM);
      const member = await api.getChatMember(id, await this.deps.botId());
      const allowed = member.status === "creator" || (member.status === "administrator" && member.can_manage_topics === true);
      if (!allowed) return this.refuse(NO_RIGHTS);
      this.state = { enabled: true, reason: null };
      if (!this.quiet) logger.info({ chatId: id }, "topic mode is on: each app user's messages go into their own topic of the support group");
    } catch (error) {
      const failure = classifySendError(error);
      if (failure.kind === "transient" || failure.kind === "rate_limited") {
        this.state = { enabled: false, reason: `not checked yet: Telegram could not be reached (${failure.description})` };
        if (this.lastLogged !== failure.description && !this.quiet) {
          this.lastLogged = failure.description;
          logger.warn({ reason: failure.description }, "cannot check topic mode yet (Telegram unreachable); working in reply mode meanwhile, retrying");
        }
        const wait = failure.kind === "rate_limited" ? failure.retryAfterSeconds * 1000 : this.backoff.delay(this.attempts);
        this.attempts += 1;
        this.timer = setTimeout(() => void this.check(), wait);
        this.timer.unref();
        return;
      }
      this.refuse(`Telegram refused the check (${failure.description}): check GROUP_CHAT_ID and that the bot is in the group, then restart the service`);
    }
  }

  private refuse(reason: string): void {
    this.state = { enabled: false, reason };
    if (!this.quiet) this.deps.logger.warn({ reason }, `SUPPORT_TOPICS=on but topics cannot be used: ${reason}. Working in reply mode`);
  }
}
