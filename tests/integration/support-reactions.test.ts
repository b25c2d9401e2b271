// Delivery feedback (SPEC §7) on real parts: the bot's reaction on the
// agent's message in the Telegram stand-in, after a reply reached a real
// socket.io-client socket, FCM (the stand-in behind firebase-admin), nobody,
// and after the user read it.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson } from "../fixtures/http.js";
import { pause, startDesk, type Desk } from "./desk-setup.js";

const GROUP = -1005550005555;
let d: Desk;

beforeAll(async () => {
  d = await startDesk(GROUP);
});
afterAll(async () => {
  await d.close();
});

const reactionOn = (telegramMessageId: number) => d.tg.state.reactions.get(`${GROUP}:${telegramMessageId}`);

async function reactionBecomes(telegramMessageId: number, emoji: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (reactionOn(telegramMessageId)?.[0] !== emoji) {
    if (Date.now() > until) throw new Error(`reaction on ${telegramMessageId} is ${JSON.stringify(reactionOn(telegramMessageId))}, expected ${emoji}`);
    await pause(25);
  }
}

describe("delivery reactions on the agent's message", () => {
  test("👌 when a socket of the user got the reply", async () => {
    const user = "react-socket";
    await d.joinedSocket(user);
    const post = await d.userSays(user, "Алло");
    const { telegramMessageId } = await d.agentReplies(user, post.message_id as number, "Слушаю");
    await reactionBecomes(telegramMessageId, "👌");
    const call = d.tg.callsTo("setMessageReaction").find((c) => Number(c.params.message_id) === telegramMessageId);
    expect(call?.ok).toBe(true);
  });

  test("👌 when no socket is joined but FCM accepted the push", async () => {
    const user = "react-push";
    await postJson(`${d.t.url}/register_device`, { user_id: user, fcm_token: "react-push-token", platform: "android" });
    const post = await d.userSays(user, "Напишите мне");
    const { telegramMessageId } = await d.agentReplies(user, post.message_id as number, "Пишу");
    await reactionBecomes(telegramMessageId, "👌");
    expect(d.fcm.delivered().some((r) => JSON.stringify(r).includes("react-push-token"))).toBe(true);
  });

  test("🤷 when no socket is joined and no token can take it", async () => {
    const user = "react-nobody";
    const post = await d.userSays(user, "Я ушёл");
    const { telegramMessageId } = await d.agentReplies(user, post.message_id as number, "Ответим позже");
    await reactionBecomes(telegramMessageId, "🤷");

    // a token FCM calls unregistered is no way to reach the user either
    const stale = "react-stale";
    await postJson(`${d.t.url}/register_device`, { user_id: stale, fcm_token: "react-stale-token", platform: "ios" });
    d.fcm.fail("react-stale-token", "unregistered");
    const post2 = await d.userSays(stale, "Старый телефон");
    const second = await d.agentReplies(stale, post2.message_id as number, "Видим");
    await reactionBecomes(second.telegramMessageId, "🤷");
  });

  test("👀 once the user read it; a later outcome never takes it back", async () => {
    const user = "react-read";
    await d.joinedSocket(user);
    const post = await d.userSays(user, "Прочитаю");
    const { item, telegramMessageId } = await d.agentReplies(user, post.message_id as number, "Вот ответ");
    await reactionBecomes(telegramMessageId, "👌");
    expect((await postJson(`${d.t.url}/mark_read`, { user_id: user, up_to_id: item.id })).status).toBe(200);
    await reactionBecomes(telegramMessageId, "👀");
    const before = d.tg.callsTo("setMessageReaction").length;
    // marking again changes nothing and sends nothing
    await postJson(`${d.t.url}/mark_read`, { user_id: user, up_to_id: item.id });
    await pause(300);
    expect(d.tg.callsTo("setMessageReaction").length).toBe(before);
    expect(reactionOn(telegramMessageId)).toEqual(["👀"]);
  });

  test("a refused reaction is logged and dropped; the reply itself is delivered", async () => {
    const user = "react-refused";
    const refusing = d.tg.refuse({ methods: ["setMessageReaction"], when: () => true, code: 400, description: "Bad Request: REACTION_INVALID" });
    try {
      await d.joinedSocket(user);
      const post = await d.userSays(user, "Проверка");
      const { item, telegramMessageId } = await d.agentReplies(user, post.message_id as number, "Доставлено");
      expect(item.message).toBe("Доставлено");
      await pause(500);
      const calls = d.tg.callsTo("setMessageReaction").filter((c) => Number(c.params.message_id) === telegramMessageId);
      // tried once, not retried
      expect(calls).toHaveLength(1);
      expect(calls[0]?.status).toBe(400);
      expect(reactionOn(telegramMessageId)).toBeUndefined();
    } finally {
      refusing();
    }
  });
});
