// The Prisma CLI for the PostgreSQL schema (`prisma migrate status --config
// prisma/postgres/prisma.config.ts`), offline as prisma.config.ts is: the
// Rust-free client and the bundled WebAssembly schema engine, talking to
// PostgreSQL through `pg` (@prisma/adapter-pg).
import { PrismaPg } from "@prisma/adapter-pg";
import type { PrismaConfig } from "prisma";

const url = process.env.DATABASE_URL ?? "";
if (!/^postgres(ql)?:\/\//.test(url)) throw new Error("set DATABASE_URL to the PostgreSQL database (postgresql://user@host:port/db)");

export default {
  experimental: { adapter: true },
  engine: "js",
  schema: "schema.prisma",
  migrations: { path: "migrations" },
  adapter: async () => new PrismaPg({ connectionString: url }),
} satisfies PrismaConfig;
