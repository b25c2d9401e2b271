// The group's budget against the Telegram stand-in enforcing a group limit
// (scaled down: 8 a second instead of 20 a minute): users' posts first,
// then answers (they wait), then reactions (dropped when there is no room,
// and never into the answers' share),
// and never a 429.
import { Api } from "grammy";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupBudget } from "../../server/outbox/group-budget.js";
import { GroupPacer } from "../../server/outbox/pacer.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";

const GROUP = -1009990001111;
const LIMIT = 8;
const WINDOW_MS = 1_000;

let tg: TelegramStandIn;
let api: Api;
let pacer: GroupPacer;
let budget: GroupBudget;
let userPostsWaiting: number;

/** A user's post as the outbox lane sends it: whenever the pacer says the window has room. */
async function userPost(text: string): Promise<void> {
  for (;;) {
    const delay = budget.delayFor(1, Date.now());
    if (delay === 0) break;
    await new Promise((r) => setTimeout(r, delay));
  }
  await api.sendMessage(GROUP, text);
  budget.record(1, Date.now());
}

beforeEach(async () => {
  tg = await startTelegramStandIn();
  tg.setGroupLimit({ limit: LIMIT, windowMs: WINDOW_MS });
  api = new Api(tg.token, { apiRoot: tg.apiRoot });
  pacer = new GroupPacer({ perGroup: LIMIT, perGroupWindowMs: WINDOW_MS, overall: 30, overallWindowMs: 1_000 });
  userPostsWaiting = 0;
  budget = new GroupBudget({ pacer, userPostWaiting: async () => userPostsWaiting > 0, headroom: 2, pollMs: 20 });
});
afterEach(async () => {
  await tg.close();
});

describe("group budget", () => {
  it("while a user's post waits, an answer waits for it and a reaction is dropped", async () => {
    const target = await api.sendMessage(GROUP, "agent message");
    budget.record(1, Date.now());
    userPostsWaiting = 1;
    const order: string[] = [];
    const answer = budget.send("answer", () => api.sendMessage(GROUP, "answer")).then(() => order.push("answer"));
    const reaction = await budget.send("reaction", () => api.setMessageReaction(GROUP, target.message_id, [{ type: "emoji", emoji: "👌" }]));
    expect(reaction).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(order).toEqual([]);
    await userPost("user post");
    order.push("user post");
    userPostsWaiting = 0;
    await answer;
    expect(order).toEqual(["user post", "answer"]);
    expect(tg.callsTo("setMessageReaction")).toHaveLength(0);
    expect(tg.stats.groupLimited).toBe(0);
  });

  it("lower priorities leave the headroom to users' posts, and reactions leave answers theirs", async () => {
    const target = await api.sendMessage(GROUP, "agent message");
    budget.record(1, Date.now());
    let sentReactions = 0;
    for (let i = 0; i < LIMIT; i++) {
      if ((await budget.send("reaction", () => api.setMessageReaction(GROUP, target.message_id, [{ type: "emoji", emoji: i % 2 ? "👌" : "👀" }]))) !== null) sentReactions += 1;
    }
    // 8 in the window: 1 taken, 2 kept for users' posts, 2 more for answers, 3 for reactions
    expect(sentReactions).toBe(LIMIT - 1 - 2 - 2);
    const started = Date.now();
    // the answers' share: two answers go at once, and a third would wait (the users' headroom)
    await budget.send("answer", () => api.sendMessage(GROUP, "answer 1"));
    await budget.send("answer", () => api.sendMessage(GROUP, "answer 2"));
    expect(await budget.mayGo(1)).toBe(false);
    await userPost("user post 1");
    await userPost("user post 2");
    // the headroom: no wait for these two
    expect(Date.now() - started).toBeLessThan(WINDOW_MS / 2);
    expect(tg.stats.groupLimited).toBe(0);
  });

  it("a backlog of users' posts drains first; answers go after it, reactions meanwhile are dropped", async () => {
    const target = await api.sendMessage(GROUP, "agent message");
    budget.record(1, Date.now());
    userPostsWaiting = 12;
    const order: string[] = [];
    const answers = [1, 2].map((n) => budget.send("answer", () => api.sendMessage(GROUP, `answer ${n}`)).then(() => order.push(`answer ${n}`)));
    let dropped = 0;
    const drain = (async () => {
      while (userPostsWaiting > 0) {
        await userPost(`post ${userPostsWaiting}`);
        order.push("post");
        userPostsWaiting -= 1;
        if ((await budget.send("reaction", () => api.setMessageReaction(GROUP, target.message_id, [{ type: "emoji", emoji: "👌" }]))) === null) dropped += 1;
      }
    })();
    await drain;
    await Promise.all(answers);
    expect(order.slice(0, 12)).toEqual(Array(12).fill("post"));
    expect(order.slice(12).sort()).toEqual(["answer 1", "answer 2"]);
    // reactions asked while a post still waited were all dropped (the last one asked with none waiting may go)
    expect(dropped).toBeGreaterThanOrEqual(11);
    expect(tg.stats.groupLimited).toBe(0);
  });
});
