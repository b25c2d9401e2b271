// Who may write to one SQLite file now, among this process's connections to
// it (the stores' and Prisma's). SQLite has one writer at a time and
// better-sqlite3 waits for the lock synchronously, blocking the event loop:
// a statement that meets a lock held by another connection of the same
// process can never see it released (the holder's next step needs the
// loop), and fails after the busy timeout. So the connections take turns
// here instead of in SQLite:
//
// - a store transaction (BEGIN IMMEDIATE … COMMIT, server/db/sql.ts) spans
//   a few microtasks: while it is open, Prisma's statements and the other
//   store work wait for it;
// - a store transaction waits for an open Prisma transaction to end (one
//   that has written holds the lock). Prisma's transactions never wait on
//   store work (server/db/database.ts, the rule), so this cannot deadlock;
// - single store statements do not wait for Prisma's transactions: they
//   run synchronously and keep the old behaviour (WAL lets them read).
//
// Other processes on the file (the outbox and backup commands, a second
// instance in a rolling restart) have their own event loops: for them the
// busy timeout is the right tool.
export class SqliteGate {
  private storeTransaction = false;
  private prismaTransactions = 0;
  private waiters: (() => void)[] = [];

  /** Whether store or Prisma statements must wait now. */
  get storeTransactionOpen(): boolean {
    return this.storeTransaction;
  }

  /** Resolves once no store transaction is open (at once when none is). */
  async noStoreTransaction(): Promise<void> {
    while (this.storeTransaction) await this.change();
  }

  /** Runs a store transaction's body as the only writer of this process. */
  async storeWork<T>(work: () => Promise<T>): Promise<T> {
    while (this.storeTransaction || this.prismaTransactions > 0) await this.change();
    this.storeTransaction = true;
    try {
      return await work();
    } finally {
      this.storeTransaction = false;
      this.changed();
    }
  }

  prismaTransactionStarted(): void {
    this.prismaTransactions += 1;
  }

  prismaTransactionEnded(): void {
    this.prismaTransactions = Math.max(0, this.prismaTransactions - 1);
    this.changed();
  }

  private change(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private changed(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }
}

const gates = new Map<string, SqliteGate>();

/** The gate of one SQLite file in this process (by its absolute path). */
export function sqliteGateFor(file: string): SqliteGate {
  let gate = gates.get(file);
  if (!gate) {
    gate = new SqliteGate();
    gates.set(file, gate);
  }
  return gate;
}
