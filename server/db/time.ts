// Prisma keeps SQLite DateTime columns as ISO-8601 text ("…T…+00:00"); the
// prepared-statement paths write the same form so either can read any row.
// SQLite's own CURRENT_TIMESTAMP default ("YYYY-MM-DD HH:MM:SS", UTC) is read
// too.

export function toSqliteTime(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

export function fromSqliteTime(value: string): Date {
  // "YYYY-MM-DD HH:MM:SS" without a zone is UTC in SQLite.
  return new Date(value.length === 19 ? `${value.replace(" ", "T")}Z` : value);
}
