export const SOURCE: string;
export const TARGET: string;
/** The PostgreSQL copy of the SQLite schema text. */
export function postgresSchema(sqliteSchema: string): string;
/** Writes prisma/postgres/schema.prisma from prisma/schema.prisma under `root`; returns its text. */
export function writePostgresSchema(root: string): string;
