// The group → user composer on its own, through bot.handleUpdate (grammY's
// test entry) with the Telegram stand-in behind the real client.
import { Bot } from "grammy";
import type { PhotoSize, Update } from "grammy/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../server/logger.js";
import { supportGroupTest } from "../../server/telegram/group-messages.js";
import { createSupportReplies, largestPhoto, type SupportReplyInput } from "../../server/telegram/support-replies.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";

const GROUP = -1007770001;
const logger = createLogger({ level: "silent", secrets: [] });
let tg: TelegramStandIn;
let bot: Bot;
let replies: SupportReplyInput[];
let saved: { bytes: Buffer; name: string }[];
let posted: number;

function install(groupChatId: string): void {
  bot.use(
    createSupportReplies({
      isSupportGroup: supportGroupTest(groupChatId),
      userForPost: async (_chat, id) => (id === posted ? "user-c" : null),
      addSupportReply: async (input) => replies.push(input),
      savePhoto: (bytes, name) => {
        saved.push({ bytes, name });
        return Promise.resolve({ url: `/uploads/${saved.length}.jpg` });
      },
      logger,
    }),
  );
}

beforeEach(async () => {
  tg = await startTelegramStandIn();
  bot = new Bot(tg.token, { botInfo: tg.botInfo, client: { apiRoot: tg.apiRoot } });
  replies = [];
  saved = [];
  posted = (await bot.api.sendMessage(GROUP, "from user")).message_id;
});
afterEach(async () => {
  await tg.close();
});

describe("createSupportReplies", () => {
  it("picks the largest photo size whatever the order", () => {
    const size = (id: string, width: number, file_size?: number): PhotoSize => ({ file_id: id, file_unique_id: id, width, height: width, file_size });
    expect(largestPhoto([size("b", 800), size("a", 90), size("c", 320)])?.file_id).toBe("b");
    expect(largestPhoto([size("a", 800, 10), size("b", 800, 20)])?.file_id).toBe("b");
    expect(largestPhoto([])).toBeUndefined();
  });

  it("matches a group configured as @username and keeps an image sent as a document", async () => {
    tg.state.chats.set(GROUP, { id: GROUP, type: "supergroup", title: "Support", username: "OurSupport" });
    install("@oursupport");
    const file = tg.addFile(Buffer.from("png-bytes"), "documents", "png");
    const update = tg.updates.groupText({ chatId: GROUP, text: "ignored", replyTo: posted });
    const message = { ...update.message, text: undefined, caption: "scan", document: { file_id: file.file_id, file_unique_id: file.file_unique_id, mime_type: "image/png", file_name: "scan.png" } };
    await bot.handleUpdate({ update_id: update.update_id, message } as Update);
    expect(replies).toMatchObject([{ userId: "user-c", text: "scan", photoUrls: ["/uploads/1.jpg"] }]);
    expect(saved[0]?.bytes.toString()).toBe("png-bytes");
    expect(saved[0]?.name).toMatch(/\.png$/);
  });

  it("ignores a reply with nothing to deliver and lets other chats pass to later handlers", async () => {
    install(String(GROUP));
    const seen: number[] = [];
    bot.on("message", (ctx) => void seen.push(ctx.chat.id));
    const sticker = tg.updates.groupText({ chatId: GROUP, text: "x", replyTo: posted });
    const stickerMessage = { ...sticker.message, text: undefined, sticker: { file_id: "s", file_unique_id: "s", type: "regular", width: 1, height: 1, is_animated: false, is_video: false } };
    await bot.handleUpdate({ update_id: sticker.update_id, message: stickerMessage } as Update);
    await bot.handleUpdate(tg.updates.privateStart());
    expect(replies).toEqual([]);
    expect(seen).toEqual([tg.updates.privateStart().message?.chat.id]);
  });
});
