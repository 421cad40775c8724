/**
 * The statistics' fold, run by the Cron Trigger every minute (wrangler.toml `[triggers]`,
 * src/index.ts): marks the hours of the messages stored since the last run, then recomputes the
 * hours marked by them and by other writes (db/stats-fold.ts),
 * so that a read of the statistics, which folds its own range first, finds little left to do.
 */
import { createDatabase } from "../db/client";
import { foldStats } from "../db/stats-fold";
import { reportedRun } from "./reported-run";

/** The Cron Trigger of wrangler.toml that runs the fold; the other one runs the retention purge. */
export const statsFoldCron = "* * * * *";

/**
 * What one run may do. A batch is one statement and one transaction: a day of hours at 1 M
 * messages takes about a second to fold (docs/benchmarks.md), far from the 4 s statement_timeout.
 * A backlog larger than a run's batches (after a bulk import, or the Cron stopped) is worked off
 * run by run; a read in the meantime folds its own range.
 */
export const foldLimits = { batchHours: 24, batchesPerRun: 10, databaseBudgetMs: 30_000 };

export type FoldReport = {
  event: "stats_fold";
  hours: number;
  batches: number;
  backlog: "drained" | "remaining";
  ms: number;
};

/** Folds the marked hours, oldest first; logs one line of counts, also when it fails part-way. */
export async function foldStatsBacklog(env: Env): Promise<FoldReport> {
  const report: FoldReport = { event: "stats_fold", hours: 0, batches: 0, backlog: "remaining", ms: 0 };
  const db = createDatabase(env.HYPERDRIVE.connectionString, foldLimits.databaseBudgetMs);
  return reportedRun(report, async () => {
    while (report.batches < foldLimits.batchesPerRun) {
      const hours = await foldStats(db, { maxHours: foldLimits.batchHours });
      report.batches += 1;
      report.hours += hours;
      if (hours < foldLimits.batchHours) {
        report.backlog = "drained";
        break;
      }
    }
  });
}
