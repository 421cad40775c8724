/**
 * The fold of the statistics' hourly rollups (drizzle/0008, docs/api.md §13.5): marks the hours of
 * the messages stored since the last fold (its sweep, drizzle/0012: a chat turn marks nothing), then
 * recomputes the marked hours, those and the ones other writes have marked, from their rows, by
 * the same functions that define each rollup. The Cron Trigger folds every minute (lifecycle/stats-fold.ts), and every read of
 * the rollups folds its range first, as its own statement, so a read is exact whatever the
 * Cron's lag: what a fold does not find marked is already in the rollups.
 */
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { placeholder } from "./fragments";
import { statement } from "./statement";

const foldStatement = statement("stats_fold", (db) =>
  db.select({ hours: sql<number>`hours`.mapWith(Number) }).from(
    sql`stats_fold(${placeholder("from")}::timestamptz, ${placeholder("to")}::timestamptz,
      ${placeholder("maxHours")}::integer) as hours`,
  ),
);

/** Which marked hours to fold: those in [from, to), at most maxHours of them (oldest first). */
export type FoldRange = { from?: Date; to?: Date; maxHours?: number };

/**
 * Recomputes the marked hours of [from, to) (default: every marked hour) and returns how many.
 * One fold runs at a time (an advisory lock): a call waits for one in progress, then folds what
 * is left.
 */
export async function foldStats(db: Database, range: FoldRange = {}): Promise<number> {
  const [row] = await foldStatement(db).execute({
    from: range.from?.toISOString() ?? "-infinity",
    to: range.to?.toISOString() ?? "infinity",
    maxHours: range.maxHours ?? null,
  });
  return row?.hours ?? 0;
}
