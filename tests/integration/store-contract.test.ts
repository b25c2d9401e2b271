// The stores' contract, on both engines (SPEC §8: every behaviour is the
// same on PostgreSQL): one implementation per store over server/db/sql.ts,
// run here against a SQLite file and a PostgreSQL database with the same
// expectations. The services' behaviour on top is the integration suite's
// (TEST_ENGINE=postgres runs it on PostgreSQL too).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { migrationsDirFor, openDatabase, type Db } from "../../server/db/database.js";
import { OUTBOX_CHANNEL, OutboxStore } from "../../server/outbox/outbox-store.js";
import { GreetingStore } from "../../server/support/greeting-store.js";
import { MappingStore } from "../../server/support/mapping-store.js";
import { MessageStore, type NewMessage } from "../../server/support/message-store.js";
import { UserStateStore } from "../../server/support/user-state-store.js";
import { TopicStore } from "../../server/telegram/topics-store.js";
import { createTestDatabase, engineUrl } from "../engines/engines.js";
import { PROJECT_ROOT } from "../fixtures/test-app.js";

interface Engine {
  name: string;
  open(): Promise<Db>;
  cleanup(): Promise<void>;
}

function sqliteEngine(): Engine {
  const dir = mkdtempSync(path.join(tmpdir(), "stores-"));
  const url = `file:${path.join(dir, "stores.db")}`;
  return {
    name: "SQLite",
    open: () => openDatabase({ url, migrationsDir: migrationsDirFor(url, PROJECT_ROOT) }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresEngine(serverUrl: string): Engine {
  let database: Promise<{ url: string; drop(): Promise<void> }> | null = null;
  return {
    name: "PostgreSQL",
    async open() {
      database ??= createTestDatabase(serverUrl);
      const { url } = await database;
      return openDatabase({ url, migrationsDir: migrationsDirFor(url, PROJECT_ROOT) });
    },
    cleanup: async () => void (await (await database)?.drop()),
  };
}

const postgresUrl = engineUrl("TEST_POSTGRES_URL");
const engines: Engine[] = [sqliteEngine(), ...(postgresUrl ? [postgresEngine(postgresUrl)] : [])];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let users = 0;
const freshUser = () => `store-user-${++users}`;
const userMessage = (userId: string, text: string, extra: Partial<NewMessage> = {}): NewMessage => ({ userId, userName: "Аня", text, direction: "user", photoUrls: [], ...extra });

describe.each(engines)("the stores on $name", (engine) => {
  let db: Db;
  let messages: MessageStore;
  let outbox: OutboxStore;

  beforeAll(async () => {
    db = await engine.open();
    messages = new MessageStore(db.sql);
    outbox = new OutboxStore(db.sql);
  });
  afterAll(async () => {
    await db?.close();
    await engine.cleanup();
  });

  describe("messages", () => {
    test("history is the newest `limit`, oldest first; times and photos come back as stored", async () => {
      const user = freshUser();
      const at = new Date("2026-03-04T05:06:07.089Z");
      for (let i = 0; i < 5; i++) await messages.insert({ ...userMessage(user, `m${i}`, { photoUrls: i === 4 ? ["/uploads/a.jpg", "/uploads/b.jpg"] : [] }), createdAt: new Date(at.getTime() + i) });
      const history = await messages.history(user, 3);
      expect(history.map((m) => m.text)).toEqual(["m2", "m3", "m4"]);
      expect(history[2]).toMatchObject({ userId: user, direction: "user", photoUrls: ["/uploads/a.jpg", "/uploads/b.jpg"], createdAt: new Date(at.getTime() + 4), readAt: null, editedAt: null });
    });

    test("one message per Telegram message and per (user, client_message_id): the second insert is null", async () => {
      const user = freshUser();
      const reply = { ...userMessage(user, "ответ"), direction: "support" as const, telegram: { chatId: -100123, messageId: 77 } };
      expect(await messages.insertOnce(reply)).not.toBeNull();
      expect(await messages.insertOnce(reply)).toBeNull();
      expect(await messages.supportMessageFor(-100123, 77)).toMatchObject({ userId: user, text: "ответ" });

      const first = await messages.insertOnce(userMessage(user, "раз", { clientMessageId: "key-1" }));
      expect(await messages.insertOnce(userMessage(user, "два", { clientMessageId: "key-1" }))).toBeNull();
      expect(await messages.byClientMessageId(user, "key-1")).toMatchObject({ id: first?.id, text: "раз", delivery: "queued", telegramMessageId: null });
      // Another user may use the same key.
      expect(await messages.insertOnce(userMessage(freshUser(), "три", { clientMessageId: "key-1" }))).not.toBeNull();
    });

    test("concurrent inserts with one key on two connections: exactly one is stored", async () => {
      const user = freshUser();
      const other = await engine.open();
      try {
        const stores = [messages, new MessageStore(other.sql)];
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (stores[i % 2] as MessageStore).insertOnce(userMessage(user, `race ${i}`, { clientMessageId: "race" }))),
        );
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        expect(await messages.history(user, 50)).toHaveLength(1);
      } finally {
        await other.close();
      }
    });

    test("read state only moves forward, and deleted replies are neither unread nor shown", async () => {
      const user = freshUser();
      const replies = [];
      for (let i = 0; i < 3; i++) replies.push(await messages.insert({ ...userMessage(user, `r${i}`), direction: "support" }));
      expect(await messages.unreadCount(user)).toBe(3);
      expect(await messages.markRead(user, replies[1]?.id ?? 0, new Date())).toEqual([replies[0]?.id, replies[1]?.id]);
      expect(await messages.markRead(user, replies[0]?.id ?? 0, new Date())).toEqual([]);
      expect(await messages.unreadCount(user)).toBe(1);
      expect(await messages.markDeleted(replies[2]?.id ?? 0, new Date())).toBe(true);
      expect(await messages.markDeleted(replies[2]?.id ?? 0, new Date())).toBe(false);
      expect(await messages.unreadCount(user)).toBe(0);
      expect((await messages.history(user, 10)).map((m) => m.text)).toEqual(["r0", "r1"]);
      expect(await messages.editText(replies[2]?.id ?? 0, "поздно", new Date())).toBe(false);
    });

    test("delivery moves to sent once, and a sent message never goes back to queued or set aside", async () => {
      const message = await messages.insert(userMessage(freshUser(), "доставка"));
      await messages.markDelivery(message.id, "set_aside");
      expect((await messages.byId(message.id))?.delivery).toBe("set_aside");
      await messages.markSent(message.id, -1001, 555);
      await messages.markDelivery(message.id, "queued");
      expect(await messages.byId(message.id)).toMatchObject({ delivery: "sent", telegramMessageId: 555 });
    });

    test("stats count what the app shows and name the user from their latest message", async () => {
      const user = freshUser();
      await messages.insert({ ...userMessage(user, "a", { userName: "Старое имя" }), createdAt: new Date("2026-01-01T00:00:00Z") });
      await messages.insert({ ...userMessage(user, "b", { userName: "Новое имя" }), createdAt: new Date("2026-01-02T00:00:00Z") });
      expect(await messages.stats(user)).toEqual({ messageCount: 2, firstAt: new Date("2026-01-01T00:00:00Z"), lastAt: new Date("2026-01-02T00:00:00Z"), userName: "Новое имя" });
    });
  });

  describe("outbox", () => {
    test("jobs come out of a lane in order, due or not; reschedule, set aside and retry keep their place", async () => {
      const lane = "push";
      const now = new Date();
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) ids.push(await db.sql.transaction((tx) => outbox.in(tx).enqueue({ lane, kind: "probe", userId: "u", messageId: null, payload: { i } }, now)));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect((await outbox.head<{ i: number }>(lane))?.payload).toEqual({ i: 0 });

      await outbox.reschedule(ids[0] ?? 0, new Date(now.getTime() + 60_000), "later", true);
      expect((await outbox.due(lane, new Date(now.getTime() + 1), 10)).map((j) => j.id)).toEqual([ids[1], ids[2]]);
      expect((await outbox.head(lane))?.id).toBe(ids[0]); // the head waits, due or not
      expect(await outbox.byId(ids[0] ?? 0)).toMatchObject({ attempts: 1, lastError: "later" });

      expect(await outbox.setAside(ids[0] ?? 0, "refused")).toBe(true);
      expect(await outbox.setAside(ids[0] ?? 0, "again")).toBe(false);
      expect((await outbox.head(lane))?.id).toBe(ids[1]);
      expect(await outbox.setAsideStats(lane)).toMatchObject({ count: 1, latestReason: "refused" });
      expect(await outbox.retryAt(ids[0] ?? 0, now)).toBe(true);
      expect((await outbox.head(lane))?.id).toBe(ids[0]);

      const stats = await outbox.stats(lane);
      expect(stats.depth).toBe(3);
      expect(stats.oldestCreatedAt?.getTime()).toBe(now.getTime());
      for (const id of ids) await outbox.remove(id);
      expect(await outbox.stats(lane)).toEqual({ depth: 0, oldestCreatedAt: null });
      expect(await outbox.nextDueAt(lane)).toBeNull();
    });

    test("an enqueue is announced to listeners once its transaction commits, and never when it rolls back", async () => {
      const heard: string[] = [];
      const unlisten = await db.sql.listen(OUTBOX_CHANNEL, (lane) => heard.push(lane));
      try {
        await expect(
          db.sql.transaction(async (tx) => {
            await outbox.in(tx).enqueue({ lane: "telegram", kind: "probe", userId: "u", messageId: null, payload: {} });
            throw new Error("rolled back");
          }),
        ).rejects.toThrow("rolled back");
        const id = await db.sql.transaction((tx) => outbox.in(tx).enqueue({ lane: "telegram", kind: "probe", userId: "u", messageId: null, payload: {} }));
        await expect.poll(() => heard).toEqual(["telegram"]);
        await sleep(100);
        expect(heard).toEqual(["telegram"]);
        expect((await outbox.list()).filter((j) => j.kind === "probe" && j.lane === "telegram").map((j) => j.id)).toEqual([id]);
        await outbox.remove(id);
      } finally {
        unlisten();
      }
    });
  });

  test("mappings: a post's ids lead back to the user; the pacing window reads send times since a moment", async () => {
    const mappings = new MappingStore(db.sql);
    const user = freshUser();
    const at = new Date();
    await mappings.record(-100777, [11, 12], user, null, at);
    await mappings.record(-100777, [12], user, null, at); // a repeated call records once
    expect(await mappings.userFor(-100777, 12)).toBe(user);
    expect(await mappings.userFor(-100777, 13)).toBeNull();
    expect(await mappings.sentSince(-100777, new Date(at.getTime() - 1_000))).toEqual([at.getTime(), at.getTime()]);
    expect(await mappings.sentSince(-100777, at)).toEqual([]);
  });

  test("user state: ban with a reason, unban; close, and the next message reopens", async () => {
    const states = new UserStateStore(db.sql);
    const user = freshUser();
    expect(await states.isBanned(user)).toBe(false);
    await states.ban(user, "спам", new Date());
    expect(await states.get(user)).toMatchObject({ banReason: "спам", closedAt: null });
    expect(await states.isBanned(user)).toBe(true);
    expect(await states.unban(user, new Date())).toBe(true);
    expect(await states.unban(user, new Date())).toBe(false);
    await states.close(user, new Date());
    expect((await states.get(user)).closedAt).toBeInstanceOf(Date);
    expect(await states.reopen(user, new Date())).toBe(true);
    expect(await states.reopen(user, new Date())).toBe(false);
  });

  test("topics: one in use per user; a deleted one is forgotten, so the next is found", async () => {
    const topics = new TopicStore(db.sql);
    const user = freshUser();
    await topics.record(-100888, user, 5, new Date());
    expect(await topics.forUser(-100888, user)).toEqual({ userId: user, threadId: 5, state: "open" });
    await topics.setState(-100888, 5, "gone");
    expect(await topics.forUser(-100888, user)).toBeNull();
    expect(await topics.byThread(-100888, 5)).toBeNull();
    await topics.record(-100888, user, 9, new Date());
    await topics.setState(-100888, 9, "closed");
    expect(await topics.byThread(-100888, 9)).toEqual({ userId: user, threadId: 9, state: "closed" });
    expect(await topics.inUseCount(-100888, user)).toBe(1);
  });

  test("the day's greeting is added once, also when two connections ask at once", async () => {
    const other = await engine.open();
    try {
      const user = freshUser();
      const now = new Date();
      const greeters = [new GreetingStore(db.sql, messages), new GreetingStore(other.sql, new MessageStore(other.sql))];
      const added = await Promise.all(Array.from({ length: 6 }, (_, i) => (greeters[i % 2] as GreetingStore).greetOnce(user, "Оля", now)));
      expect(added.filter((m) => m !== null)).toHaveLength(1);
      expect((await messages.history(user, 10)).map((m) => m.text)).toEqual(["Здравствуйте, Оля!"]);
    } finally {
      await other.close();
    }
  });
});

// Sequence values are handed out at insert, not at commit: without the
// lane's lock, a reader of ORDER BY id could post 11 before 10 commits.
describe.skipIf(!postgresUrl)("enqueue order on PostgreSQL", () => {
  test("a second enqueue waits for the first's commit, so ids of a lane are taken in commit order", async () => {
    const engine = postgresEngine(postgresUrl ?? "");
    const [first, second] = [await engine.open(), await engine.open()];
    try {
      const [a, b] = [new OutboxStore(first.sql), new OutboxStore(second.sql)];
      let letFirstCommit!: () => void;
      const held = new Promise<void>((resolve) => (letFirstCommit = resolve));
      let firstEnqueued = false;
      const firstJob = first.sql.transaction(async (tx) => {
        const id = await a.in(tx).enqueue({ lane: "telegram", kind: "order", userId: "u", messageId: null, payload: { n: 10 } });
        firstEnqueued = true;
        await held; // a slow commit
        return id;
      });
      await expect.poll(() => firstEnqueued).toBe(true);
      let secondDone = false;
      const secondJob = second.sql.transaction((tx) => b.in(tx).enqueue({ lane: "telegram", kind: "order", userId: "u", messageId: null, payload: { n: 11 } })).then((id) => {
        secondDone = true;
        return id;
      });
      await sleep(300);
      expect(secondDone).toBe(false); // waiting on the lane's lock
      expect(await a.head("telegram")).toBeNull(); // nothing committed yet
      letFirstCommit();
      const [firstId, secondId] = [await firstJob, await secondJob];
      expect(firstId).toBeLessThan(secondId);
      expect((await a.list()).filter((j) => j.kind === "order").map((j) => j.payload)).toEqual([{ n: 10 }, { n: 11 }]);
    } finally {
      await first.close();
      await second.close();
      await engine.cleanup();
    }
  });
});
