-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_processed_updates" (
    "update_id" BIGINT NOT NULL PRIMARY KEY,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "state" TEXT NOT NULL DEFAULT 'done',
    "claimed_by" TEXT,
    "claim_expires_at" DATETIME
);
INSERT INTO "new_processed_updates" ("created_at", "update_id") SELECT "created_at", "update_id" FROM "processed_updates";
DROP TABLE "processed_updates";
ALTER TABLE "new_processed_updates" RENAME TO "processed_updates";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

