// The other ways a refused group post is sent, and when it is set aside.
import { describe, expect, test } from "vitest";
import { fallbackAfter, planFromProgress, PLAIN_PIECE_LIMIT, type GroupPostPayload } from "../../server/telegram/group-post-fallback.js";

const post = (text: string, photos: { url: string }[] = []): GroupPostPayload => ({
  post: { messageId: 1, userId: "u-1", userName: "Анна", text, photos },
  step: 0,
  sentIds: [],
});

describe("fallbackAfter", () => {
  test("a photo goes as a link, then as plain text, then is set aside", () => {
    let payload = post("подпись", [{ url: "https://cdn.example.com/a.jpg" }]);
    const photoCall = planFromProgress(payload)[0];
    expect(photoCall?.method).toBe("sendPhoto");
    const asLink = fallbackAfter(payload, photoCall!);
    expect(asLink).toMatchObject({ next: "retry", how: "photos as links" });
    payload = (asLink as { payload: GroupPostPayload }).payload;
    const linkCall = planFromProgress(payload)[0];
    expect(linkCall).toMatchObject({ method: "sendMessage", text: expect.stringContaining("https://cdn.example.com/a.jpg") });
    const plain = fallbackAfter(payload, linkCall!);
    expect(plain).toMatchObject({ next: "retry", how: "plain text" });
    payload = (plain as { payload: GroupPostPayload }).payload;
    const plainCall = planFromProgress(payload)[0];
    expect(plainCall).toMatchObject({ method: "sendMessage", entities: [], plain: true });
    expect(fallbackAfter(payload, plainCall!)).toEqual({ next: "set_aside" });
  });

  test("plain text keeps every character, in pieces short enough, and the later steps stay in place", () => {
    const text = Array.from({ length: 1200 }, (_, i) => `слово${i}`).join(" ");
    const payload = { ...post(text), step: 1, sentIds: [10], plainAt: [1] };
    const original = planFromProgress(post(text));
    const calls = planFromProgress(payload);
    expect(calls[0]).toEqual(original[0]);
    const pieces = calls.slice(1, calls.length - (original.length - 2));
    expect(pieces.every((c) => c.method === "sendMessage" && c.text.length <= PLAIN_PIECE_LIMIT && c.entities.length === 0)).toBe(true);
    expect(pieces.map((c) => (c.method === "sendMessage" ? c.text : "")).join("")).toBe(original[1]?.method === "sendMessage" ? original[1].text : "");
    expect(calls.slice(calls.length - (original.length - 2))).toEqual(original.slice(2));
  });
});
