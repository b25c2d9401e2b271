// The PostgreSQL schema, derived from prisma/schema.prisma (SQLite), which
// stays the one source: Prisma 6 allows one datasource provider per schema
// file, so the PostgreSQL client and migrations need a copy of their own.
// `node server/db/postgres-schema.mjs` writes prisma/postgres/schema.prisma;
// a unit test fails when the committed copy is stale.
//
// Besides the provider and the client's folder, DateTime columns become
// `timestamptz(3)`: Prisma's PostgreSQL default `timestamp(3)` has no zone,
// and `pg` reads such a value in the process's local zone, so a raw query on
// a server outside UTC would see times shifted. With a zone, Prisma and
// `pg` read the same instant whatever TZ says. Millisecond precision matches
// what SQLite keeps (ISO text with milliseconds).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const SOURCE = "prisma/schema.prisma";
export const TARGET = "prisma/postgres/schema.prisma";

const HEADER = `// GENERATED from ${SOURCE} by server/db/postgres-schema.mjs: do not edit.
// Change ${SOURCE}, then run npm run db:migration -- <name>.
`;

/** @param {string} sqliteSchema */
export function postgresSchema(sqliteSchema) {
  let out = sqliteSchema;
  const swaps = [
    [/provider\s*=\s*"sqlite"/, 'provider = "postgresql"'],
    [/output(\s*)=\s*"\.\.\/server\/db\/generated"/, 'output$1= "../../server/db/generated-postgres"'],
  ];
  for (const [pattern, replacement] of swaps) {
    if (!pattern.test(out)) throw new Error(`${SOURCE} no longer matches ${pattern}; update server/db/postgres-schema.mjs`);
    out = out.replace(pattern, replacement);
  }
  // `  name  DateTime?  @default(now()) …` → `… DateTime? @db.Timestamptz(3) @default(now()) …`
  out = out.replace(/^(\s+\w+\s+DateTime\??)(?!.*@db\.)(.*)$/gm, (_, field, rest) => `${field} @db.Timestamptz(3)${rest}`);
  return HEADER + out;
}

/** @param {string} root */
export function writePostgresSchema(root) {
  const text = postgresSchema(readFileSync(path.join(root, SOURCE), "utf8"));
  writeFileSync(path.join(root, TARGET), text);
  return text;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writePostgresSchema(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", ".."));
  process.stdout.write(`wrote ${TARGET}\n`);
}
