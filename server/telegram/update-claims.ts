// Who processes a Telegram update, when several instances share one database
// (SPEC §8): the processed_updates row is the claim. Taking it is one insert,
// which the primary key lets exactly one instance win; the winner processes
// the update and marks the row done, or deletes it on failure so Telegram's
// redelivery is processed afresh. Everyone else learns from the row whether
// the update is done (answer 200) or being processed elsewhere (answer 503;
// Telegram delivers it again later).
//
// A claim carries an expiry so that an instance dying mid-update does not
// hold it for ever: past its expiry the next delivery takes it over, with a
// conditional update only one taker can win (the first moves the expiry
// forward, so the others' condition no longer matches). The holder pushes
// the expiry forward while it works, so a slow update (a photo download)
// is never taken over from a live instance. Expiries are written and read on
// the instances' own clocks: the bound (default 30 s) is far above the skew
// of clocks kept by NTP.
//
// Only Prisma model calls, so both generated clients (SQLite, PostgreSQL)
// fit ClaimTable as they are. Every write is one statement on both engines
// (measured with Prisma 6.19: `update` with a filtered unique where is one
// UPDATE … WHERE … RETURNING; `updateMany` is BEGIN … COMMIT on SQLite, and
// two connections of one process, each inside one, deadlock on SQLite's
// write lock: see server/db/database.ts). A compare-and-set that matches
// nothing is Prisma's P2025.
import { randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";

interface ClaimRow {
  state: string;
  claimedBy: string | null;
  claimExpiresAt: Date | null;
}

/** The slice of Prisma's processedUpdate delegate this (and the webhook's pruning) uses; either generated client's fits. */
export interface ClaimTable {
  create(args: { data: { updateId: bigint; state: string; claimedBy: string; claimExpiresAt: Date } }): PromiseLike<unknown>;
  findUnique(args: {
    where: { updateId: bigint };
    select: { state: true; claimedBy: true; claimExpiresAt: true };
  }): PromiseLike<ClaimRow | null>;
  /** P2025 when no row matches `where` */
  update(args: {
    where: {
      updateId: bigint;
      state: string;
      claimedBy?: string;
      OR?: ({ claimExpiresAt: { lt: Date } } | { claimExpiresAt: null })[];
    };
    data: { state?: string; claimedBy?: string; claimExpiresAt: Date | null };
    select: { updateId: true };
  }): PromiseLike<unknown>;
  /** a released claim, or (the webhook's pruning) rows older than a date */
  deleteMany(args: { where: { updateId: bigint; state: string; claimedBy: string } | { createdAt: { lt: Date } } }): PromiseLike<{ count: number }>;
}

export interface HeldClaim {
  /** marks the update done; false when the claim had been taken over meanwhile */
  done(): Promise<boolean>;
  /** gives the claim up so the next delivery processes the update */
  release(): Promise<void>;
}

export type ClaimResult = { kind: "mine"; claim: HeldClaim } | { kind: "done" } | { kind: "held"; by: string | null };

export interface UpdateClaimsOptions {
  table: ClaimTable;
  /** INSTANCE_ID; a random suffix is added, so two handlers never share an owner */
  instanceId: string;
  /** how long a claim outlives its holder's last sign of life (default 30 s) */
  ttlMs?: number;
  logger: Logger;
}

const CLAIMED = "claimed";
const DONE = "done";
/** a claim that vanished or moved between our insert and our read: look again, a few times */
const ATTEMPTS = 3;

const prismaCode = (error: unknown) => (error as { code?: unknown } | null)?.code;

/** Runs a conditional update: true when it matched the row, false when it did not. */
async function matched(write: PromiseLike<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (prismaCode(error) === "P2025") return false;
    throw error;
  }
}

export class UpdateClaims {
  readonly owner: string;
  private readonly table: ClaimTable;
  private readonly ttlMs: number;
  private readonly logger: Logger;

  constructor(options: UpdateClaimsOptions) {
    this.table = options.table;
    this.owner = `${options.instanceId}/${randomBytes(4).toString("hex")}`;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.logger = options.logger;
  }

  async claim(updateId: number): Promise<ClaimResult> {
    const id = BigInt(updateId);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await this.table.create({ data: { updateId: id, state: CLAIMED, claimedBy: this.owner, claimExpiresAt: this.expiry() } });
        return { kind: "mine", claim: this.held(id) };
      } catch (error) {
        if (prismaCode(error) !== "P2002") throw error;
      }
      const row = await this.table.findUnique({ where: { updateId: id }, select: { state: true, claimedBy: true, claimExpiresAt: true } });
      if (!row) continue; // released by a failed attempt since our insert: claim it again
      if (row.state !== CLAIMED) return { kind: "done" };
      if (row.claimExpiresAt && row.claimExpiresAt.getTime() > Date.now()) return { kind: "held", by: row.claimedBy };
      const taken = await matched(
        this.table.update({
          where: { updateId: id, state: CLAIMED, OR: [{ claimExpiresAt: { lt: new Date() } }, { claimExpiresAt: null }] },
          data: { claimedBy: this.owner, claimExpiresAt: this.expiry() },
          select: { updateId: true },
        }),
      );
      if (taken) {
        this.logger.warn({ updateId, from: row.claimedBy }, "took over a Telegram update whose claim had expired (its instance stopped mid-update)");
        return { kind: "mine", claim: this.held(id) };
      }
      // Another delivery took it over or it finished meanwhile: read it again.
    }
    return { kind: "held", by: null };
  }

  private expiry(): Date {
    return new Date(Date.now() + this.ttlMs);
  }

  private held(updateId: bigint): HeldClaim {
    const mine = { updateId, state: CLAIMED, claimedBy: this.owner };
    const renew = setInterval(() => {
      matched(this.table.update({ where: mine, data: { claimExpiresAt: this.expiry() }, select: { updateId: true } })).then(
        (renewed) => {
          if (renewed) return;
          clearInterval(renew);
          this.logger.warn({ updateId: Number(updateId) }, "lost the claim on a Telegram update being processed (renewals failed for longer than the claim lasts)");
        },
        (error: unknown) => this.logger.warn({ err: error, updateId: Number(updateId) }, "could not renew the claim on a Telegram update"),
      );
    }, Math.max(1, Math.floor(this.ttlMs / 3)));
    renew.unref();
    return {
      done: async () => {
        clearInterval(renew);
        return matched(this.table.update({ where: mine, data: { state: DONE, claimExpiresAt: null }, select: { updateId: true } }));
      },
      release: async () => {
        clearInterval(renew);
        await this.table.deleteMany({ where: mine });
      },
    };
  }
}
