// A group post's progress through its calls, and the other ways it is sent
// when Telegram refuses one of them for a reason of the message's own
// (classifySendError: photo_rejected, message_rejected):
//
//   1. a photo (one or an album) goes as a link in a text message;
//   2. a text goes as plain text: no entities, in shorter pieces (the
//      refusals left for a text are about its formatting or its length as
//      Telegram counts it);
//   3. a plain text that is refused too: the post is set aside, so the
//      messages behind it go out.
//
// The plan is recomputed from the payload on every step, so each fallback
// is recorded as where it starts in the plan, and applying them in the
// order they were recorded rebuilds the same calls after a restart.
import type { GroupPost } from "../ports.js";
import { planGroupPost, splitText, type GroupCall, type PlanOptions } from "./group-post-plan.js";

export interface GroupPostPayload {
  post: GroupPost;
  /** index of the next call of the plan */
  step: number;
  /** Telegram ids of the messages made so far */
  sentIds: number[];
  /** from this step on, photos go as links (Telegram could not take them) */
  linksFrom?: number;
  /** the calls at these steps went as plain text (Telegram refused them as they were), in the order it happened */
  plainAt?: number[];
  /** topic mode: the topic this job made for its user (for the record; the topic store decides where posts go) */
  threadId?: number;
}

/** Short enough that no count of Telegram's (entities, normalisation) can find it over 4096. */
export const PLAIN_PIECE_LIMIT = 2048;

export type PlannedCall = GroupCall & { plain?: true };

export function planFromProgress(payload: GroupPostPayload, options: Omit<PlanOptions, "photosAsLinks"> = {}): PlannedCall[] {
  let calls: PlannedCall[] = withLinks(payload, options);
  for (const at of payload.plainAt ?? []) {
    const call = calls[at];
    if (call?.method !== "sendMessage") continue;
    calls = [...calls.slice(0, at), ...plainPieces(call.text), ...calls.slice(at + 1)];
  }
  return calls;
}

function withLinks(payload: GroupPostPayload, options: Omit<PlanOptions, "photosAsLinks">): GroupCall[] {
  const calls = planGroupPost(payload.post, options);
  if (payload.linksFrom === undefined) return calls;
  if (payload.linksFrom === 0) return planGroupPost(payload.post, { ...options, photosAsLinks: true });
  // Text pieces already went out; only the photos remain, as links.
  const linkCalls = planGroupPost({ ...payload.post, text: "" }, { ...options, photosAsLinks: true });
  return [...calls.slice(0, payload.linksFrom), ...linkCalls];
}

function plainPieces(text: string): PlannedCall[] {
  return splitText(text, PLAIN_PIECE_LIMIT).map((piece) => ({ method: "sendMessage", text: piece, entities: [], units: 1, plain: true }));
}

export type AfterRefusal =
  | { next: "retry"; payload: GroupPostPayload; how: "photos as links" | "plain text" }
  /** every other way was tried: out of the queue's way */
  | { next: "set_aside" };

/**
 * What to do after Telegram refused `call` (the step the payload is at) for
 * a reason of the message's own. The way out depends on what was sent, not
 * on the words of the refusal: those are not a stable interface.
 */
export function fallbackAfter(payload: GroupPostPayload, call: PlannedCall): AfterRefusal {
  if (call.method !== "sendMessage" && payload.linksFrom === undefined) {
    return { next: "retry", payload: { ...payload, linksFrom: payload.step }, how: "photos as links" };
  }
  if (call.method === "sendMessage" && !call.plain) {
    return { next: "retry", payload: { ...payload, plainAt: [...(payload.plainAt ?? []), payload.step] }, how: "plain text" };
  }
  return { next: "set_aside" };
}
