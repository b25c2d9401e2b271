// The push port over firebase-admin: one FCM message per device token via
// sendEach, each token's outcome sorted into delivered / invalid / retry.
// Without a service account the port is a no-op that says so once.
import { randomUUID } from "node:crypto";
import type { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { cert, deleteApp, initializeApp, type App, type Credential } from "firebase-admin/app";
import { getMessaging, type BatchResponse, type Messaging } from "firebase-admin/messaging";
import { ConfigError, type Config } from "../config/env.js";
import type { Logger } from "../logger.js";
import type { PushBadge, PushOutcome, PushPort } from "../ports.js";
import type { ChatMessage } from "../support/types.js";
import { classifyPushError, errorCodeOf, errorMessageOf, type PushFailureKind } from "./fcm-errors.js";
import { buildPushMessages, type PushMessageOptions } from "./fcm-message.js";

/** How firebase-admin reaches FCM; tests swap both for a local stand-in. */
export interface PushTransport {
  /** replaces `cert(serviceAccount)`; anything whose getAccessToken() resolves `{access_token, expires_in}` */
  credential?: Credential;
  /** the agent every FCM request goes through */
  httpAgent?: HttpAgent;
}

export interface CreatePushOptions extends PushMessageOptions {
  config: Pick<Config, "fcmServiceAccount" | "fcmServiceAccountPath">;
  logger: Logger;
  transport?: PushTransport;
}

export interface PushService extends PushPort {
  /**
   * Waits for sends in flight (at most `graceMs`), then releases the Firebase
   * app and its sockets, which cuts off any send still waiting. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

const VARIABLE = "FCM_SERVICE_ACCOUNT_PATH";

/** How long close() lets sends in flight finish: FCM answers in well under a second when it is up. */
const CLOSE_GRACE_MS = 3_000;

/** sendEach refuses more than 500 messages in one call. */
const FCM_BATCH_LIMIT = 500;

/** Enough of a token to tell devices apart in a log line, never enough to use it. */
export function tokenPrefix(token: string): string {
  return token.length <= 8 ? "…" : `${token.slice(0, 8)}…`;
}

/** FCM error messages may quote the request; keep tokens out of the log. */
function scrubTokens(text: string, tokens: readonly string[]): string {
  let out = text;
  for (const token of tokens) {
    if (token.length > 8) out = out.split(token).join(tokenPrefix(token));
  }
  return out;
}

export function createPush(options: CreatePushOptions): PushService {
  const account = options.config.fcmServiceAccount;
  const log = options.logger.child({ module: "push" });
  if (!account) {
    log.info(`push notifications are off: ${VARIABLE} is not set`);
    return {
      enabled: false,
      send: () => Promise.resolve({ delivered: 0, invalid: [], retry: [] }),
      close: () => Promise.resolve(),
    };
  }
  return new FcmPush(account, log, options);
}

interface TokenFailure {
  tokenPrefix: string;
  kind: PushFailureKind;
  code: string | undefined;
  reason: string;
}

class FcmPush implements PushService {
  readonly enabled = true;
  private readonly app: App;
  private readonly messaging: Messaging;
  /** set when this instance made the agent, so close() frees its sockets */
  private readonly ownAgent: HttpsAgent | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(
    account: NonNullable<Config["fcmServiceAccount"]>,
    private readonly log: Logger,
    private readonly options: CreatePushOptions,
  ) {
    const credential = options.transport?.credential ?? certOrConfigError(account, options.config.fcmServiceAccountPath);
    // Keep-alive reuses the TLS connection between pushes; the cap stops a
    // 500-token batch from opening 500 sockets at once.
    this.ownAgent = options.transport?.httpAgent ? undefined : new HttpsAgent({ keepAlive: true, maxSockets: 16 });
    const httpAgent = options.transport?.httpAgent ?? this.ownAgent;
    // A unique name per instance: firebase-admin keeps apps in a global
    // registry, and tests (or a restart in-process) create several.
    this.app = initializeApp({ credential, projectId: account.projectId, httpAgent }, `support-push-${randomUUID()}`);
    this.messaging = getMessaging(this.app);
    // The HTTP/2 transport ignores `httpAgent`; HTTP/1.1 honours it, so
    // production and the tests' stand-in take the same path.
    this.messaging.enableLegacyHttpTransport();
    log.info({ projectId: account.projectId }, "push notifications are on");
  }

  send(message: ChatMessage, tokens: readonly string[], badge?: PushBadge): Promise<PushOutcome> {
    if (this.closing) return Promise.resolve({ delivered: 0, invalid: [], retry: [...new Set(tokens)] });
    const work = this.sendAll(message, tokens, badge);
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<false>((resolve) => (timer = setTimeout(resolve, graceMs, false)));
      const finished = await Promise.race([Promise.allSettled([...this.inFlight]).then(() => true), graceOver]);
      clearTimeout(timer);
      if (!finished) {
        this.log.warn({ inFlight: this.inFlight.size, graceMs }, "push: sends still waiting for FCM at shutdown are cut off; their devices are tried again after the restart");
      }
      await deleteApp(this.app);
      this.ownAgent?.destroy();
    })();
    return this.closing;
  }

  private async sendAll(message: ChatMessage, tokens: readonly string[], badge: PushBadge | undefined): Promise<PushOutcome> {
    const outcome: PushOutcome = { delivered: 0, invalid: [], retry: [] };
    const failures: TokenFailure[] = [];
    const unique = [...new Set(tokens)];
    const sendable = unique.filter((token) => token.trim() !== "");
    // An empty token would fail firebase-admin's validation; it is never valid.
    outcome.invalid.push(...unique.filter((token) => token.trim() === ""));

    for (let start = 0; start < sendable.length; start += FCM_BATCH_LIMIT) {
      const batch = sendable.slice(start, start + FCM_BATCH_LIMIT);
      let response: BatchResponse;
      try {
        response = await this.messaging.sendEach(buildPushMessages(message, batch, this.options, badge));
      } catch (error) {
        // The whole call failed before any per-token answer: keep every token for a retry.
        outcome.retry.push(...batch);
        this.log.error(
          { messageId: message.id, userId: message.userId, tokens: batch.length, code: errorCodeOf(error), reason: scrubTokens(errorMessageOf(error), batch) },
          "push batch failed",
        );
        continue;
      }
      response.responses.forEach((result, index) => {
        const token = batch[index];
        if (token === undefined) return;
        if (result.success) {
          outcome.delivered += 1;
          return;
        }
        const kind = classifyPushError(result.error);
        if (kind === "invalid") outcome.invalid.push(token);
        else if (kind === "retry") outcome.retry.push(token);
        failures.push({ tokenPrefix: tokenPrefix(token), kind, code: errorCodeOf(result.error), reason: scrubTokens(errorMessageOf(result.error), batch) });
      });
    }

    const summary = { messageId: message.id, userId: message.userId, delivered: outcome.delivered, invalid: outcome.invalid.length, retry: outcome.retry.length };
    if (failures.length === 0) {
      this.log.debug(summary, "push sent");
    } else {
      // "drop" means neither the token nor a retry can fix it (payload or
      // credentials): an operator has to look, so it is an error.
      const level = failures.some((f) => f.kind === "drop") ? "error" : "warn";
      this.log[level]({ ...summary, failures }, "push partly failed");
    }
    return outcome;
  }
}

/** cert() parses the private key; a broken key is a configuration error, said like the others. */
function certOrConfigError(account: NonNullable<Config["fcmServiceAccount"]>, file: string | undefined): Credential {
  try {
    return cert({ projectId: account.projectId, clientEmail: account.clientEmail, privateKey: account.privateKey });
  } catch {
    // The library's message can quote the key material; say what is wrong instead.
    throw new ConfigError(VARIABLE, `${file ?? "the service account file"} has a private_key that is not a valid PEM private key`);
  }
}
