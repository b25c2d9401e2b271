// Image work waits for a slot: a burst of uploads never runs more than a
// few libvips jobs at once (they share libuv's threads with file I/O), and
// waiting jobs start in the order they came.
import { availableParallelism } from "node:os";
import { expect, test } from "vitest";
import { inSlot } from "../../server/storage/image-pipeline.js";

test("at most min(cores, 3) jobs run at once, the rest in arrival order, and a failure frees its slot", async () => {
  const limit = Math.max(1, Math.min(availableParallelism(), 3));
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const job = (i: number) =>
    inSlot(async () => {
      started.push(i);
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 10));
      running -= 1;
      if (i === 0) throw new Error("decode failed");
      return i;
    });
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => job(i)));
  expect(most).toBe(limit);
  expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(results[0]?.status).toBe("rejected");
  expect(results.slice(1).map((r) => (r.status === "fulfilled" ? r.value : null))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  // Every slot came back: a new job starts at once.
  expect(await inSlot(async () => "free")).toBe("free");
});
