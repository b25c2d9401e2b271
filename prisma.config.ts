// Prisma 6.19 without network access: the Rust-free client ("engineType =
// client") and the CLI's bundled WebAssembly schema engine, both talking to
// SQLite through better-sqlite3. See ../shared/ENVIRONMENT.md.
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import type { PrismaConfig } from "prisma";

const url = process.env.DATABASE_URL ?? "file:./data/support_bot.db";
process.env.DATABASE_URL = url;

export default {
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  adapter: async () => new PrismaBetterSQLite3({ url }),
} satisfies PrismaConfig;
