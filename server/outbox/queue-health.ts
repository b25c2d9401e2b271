// What /health tells an operator about delivery: how much is waiting and
// for how long (a growing age means Telegram is not taking our posts).
import type { OutboxStore } from "./outbox-store.js";

export interface QueueHealth {
  /** last_error: why the message at the head of the queue has not gone out yet */
  queue: {
    depth: number;
    oldest_age_seconds: number;
    last_error: string | null;
    /** messages Telegram refused every way they were tried, or an operator skipped: kept, out of the queue's way */
    set_aside: { count: number; latest_reason: string | null };
  };
  push_queue: { depth: number };
}

export async function queueHealth(outbox: OutboxStore, now = Date.now()): Promise<QueueHealth> {
  const [telegram, setAside, head, push] = await Promise.all([outbox.stats("telegram"), outbox.setAsideStats("telegram"), outbox.head("telegram"), outbox.stats("push")]);
  const oldest = telegram.oldestCreatedAt?.getTime();
  return {
    queue: {
      depth: telegram.depth,
      oldest_age_seconds: oldest === undefined ? 0 : Math.max(0, Math.round((now - oldest) / 1000)),
      last_error: telegram.depth > 0 ? (head?.lastError ?? null) : null,
      set_aside: { count: setAside.count, latest_reason: setAside.latestReason },
    },
    push_queue: { depth: push.depth },
  };
}
