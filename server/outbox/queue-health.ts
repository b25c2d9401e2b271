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

export function queueHealth(outbox: OutboxStore, now = Date.now()): QueueHealth {
  const telegram = outbox.stats("telegram");
  const oldest = telegram.oldestCreatedAt?.getTime();
  const setAside = outbox.setAsideStats("telegram");
  return {
    queue: {
      depth: telegram.depth,
      oldest_age_seconds: oldest === undefined ? 0 : Math.max(0, Math.round((now - oldest) / 1000)),
      last_error: telegram.depth > 0 ? (outbox.head("telegram")?.lastError ?? null) : null,
      set_aside: { count: setAside.count, latest_reason: setAside.latestReason },
    },
    push_queue: { depth: outbox.stats("push").depth },
  };
}
