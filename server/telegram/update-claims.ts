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
// Plain statements on the stores' connection (server/db/sql.ts), not
// Prisma: a claim and its "done" are on the path of every agent reply, and
// through Prisma they cost ~1 ms (p99 ~12 ms under load) where a prepared
// statement costs ~0.02 ms. Every write is one statement whose changed-row
// count says whether it won, on both engines.
import { randomBytes } from "node:crypto";
import { readTime, type SqlRunner, type SqlTime } from "../db/sql.js";
import type { Logger } from "../logger.js";

interface ClaimRow {
  state: string;
  claimed_by: string | null;
  claim_expires_at: SqlTime | null;
}

export interface HeldClaim {
  /** marks the update done; false when the claim had been taken over meanwhile */
  done(): Promise<boolean>;
  /** gives the claim up so the next delivery processes the update */
  release(): Promise<void>;
}

export type ClaimResult = { kind: "mine"; claim: HeldClaim } | { kind: "done" } | { kind: "held"; by: string | null };

export interface UpdateClaimsOptions {
  /** the stores' connection of either engine (db.sql) */
  sql: SqlRunner;
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

export class UpdateClaims {
  readonly owner: string;
  private readonly sql: SqlRunner;
  private readonly ttlMs: number;
  private readonly logger: Logger;

  constructor(options: UpdateClaimsOptions) {
    this.sql = options.sql;
    this.owner = `${options.instanceId}/${randomBytes(4).toString("hex")}`;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.logger = options.logger;
  }

  async claim(updateId: number): Promise<ClaimResult> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const inserted = await this.sql.run(
        `INSERT INTO processed_updates (update_id, created_at, state, claimed_by, claim_expires_at) VALUES (?, ?, '${CLAIMED}', ?, ?)
         ON CONFLICT (update_id) DO NOTHING`,
        [updateId, new Date(), this.owner, this.expiry()],
      );
      if (inserted === 1) return { kind: "mine", claim: this.held(updateId) };
      const row = await this.sql.get<ClaimRow>(`SELECT state, claimed_by, claim_expires_at FROM processed_updates WHERE update_id = ?`, [updateId]);
      if (!row) continue; // released by a failed attempt since our insert: claim it again
      if (row.state !== CLAIMED) return { kind: "done" };
      const expiresAt = readTime(row.claim_expires_at);
      if (expiresAt && expiresAt.getTime() > Date.now()) return { kind: "held", by: row.claimed_by };
      // The first taker moves the expiry forward, so the others' condition no longer matches.
      const taken = await this.sql.run(
        `UPDATE processed_updates SET claimed_by = ?, claim_expires_at = ?
         WHERE update_id = ? AND state = '${CLAIMED}' AND (claim_expires_at IS NULL OR claim_expires_at < ?)`,
        [this.owner, this.expiry(), updateId, new Date()],
      );
      if (taken === 1) {
        this.logger.warn({ updateId, from: row.claimed_by }, "took over a Telegram update whose claim had expired (its instance stopped mid-update)");
        return { kind: "mine", claim: this.held(updateId) };
      }
      // Another delivery took it over or it finished meanwhile: read it again.
    }
    return { kind: "held", by: null };
  }

  /** Forgets updates claimed before `before` (Telegram stops redelivering long before); resolves to how many. */
  prune(before: Date): Promise<number> {
    return this.sql.run(`DELETE FROM processed_updates WHERE created_at < ?`, [before]);
  }

  private expiry(): Date {
    return new Date(Date.now() + this.ttlMs);
  }

  private held(updateId: number): HeldClaim {
    const mine = `update_id = ? AND state = '${CLAIMED}' AND claimed_by = ?`;
    const renew = setInterval(() => {
      this.sql.run(`UPDATE processed_updates SET claim_expires_at = ? WHERE ${mine}`, [this.expiry(), updateId, this.owner]).then(
        (renewed) => {
          if (renewed === 1) return;
          clearInterval(renew);
          this.logger.warn({ updateId }, "lost the claim on a Telegram update being processed (renewals failed for longer than the claim lasts)");
        },
        (error: unknown) => this.logger.warn({ err: error, updateId }, "could not renew the claim on a Telegram update"),
      );
    }, Math.max(1, Math.floor(this.ttlMs / 3)));
    renew.unref();
    return {
      done: async () => {
        clearInterval(renew);
        return (await this.sql.run(`UPDATE processed_updates SET state = '${DONE}', claim_expires_at = NULL WHERE ${mine}`, [updateId, this.owner])) === 1;
      },
      release: async () => {
        clearInterval(renew);
        await this.sql.run(`DELETE FROM processed_updates WHERE ${mine}`, [updateId, this.owner]);
      },
    };
  }
}
