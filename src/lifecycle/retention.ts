/**
 * The retention purge, run by the Cron Trigger (wrangler.toml `[triggers]`, src/index.ts): deletes
 * the sessions whose last activity is older than SESSION_RETENTION_DAYS, with their messages.
 * Requests stop seeing a session the moment it expires (db/fragments.ts, `unexpired`); the purge
 * only frees the space, so it can go at its own pace, in bounded batches.
 */
import { readConfig } from "../config";
import { createDatabase } from "../db/client";
import { deleteExpiredSessions } from "../db/lifecycle";
import { reportedRun } from "./reported-run";

/**
 * What one run may do. A batch is one statement, and holds the row locks of what it deletes
 * until it ends: 500 sessions with 2,000 messages take 40-50 ms (docs/benchmarks.md), far from
 * the database's 4 s statement_timeout, and the message budget keeps a batch of long
 * conversations as short. Nobody else waits for those locks: requests treat expired sessions as
 * gone. A run is ten batches, each a round trip and a few milliseconds of Worker CPU; a larger
 * backlog is worked off hour by hour (5,000 sessions a run, 120,000 a day). Each batch commits
 * on its own, so a run cut short loses nothing.
 */
export const purgeLimits = {
  batchSessions: 500,
  batchMessages: 5_000,
  batchesPerRun: 10,
  /** The longest a run waits on the database in all; what is left waits for the next run. */
  databaseBudgetMs: 30_000,
};

export type PurgeReport = {
  event: "retention_purge";
  retention_days: number;
  expired_before: string;
  sessions: number;
  messages: number;
  batches: number;
  /** "remaining": the run stopped at its limits, the next one goes on. */
  backlog: "drained" | "remaining";
  ms: number;
};

/**
 * Runs the purge for a Cron Trigger scheduled at `scheduledTime` (ms): what expired by then goes.
 * Logs one line of counts (never a session UUID), also when it fails part-way.
 */
export async function purgeExpiredSessions(env: Env, scheduledTime: number): Promise<PurgeReport | null> {
  const { retentionDays, retentionProblem } = readConfig(env);
  if (retentionProblem) {
    console.error(JSON.stringify({ event: "retention_purge", error: retentionProblem }));
    throw new Error(`the retention purge did not run: ${retentionProblem}`);
  }
  if (retentionDays === null) {
    console.log(JSON.stringify({ event: "retention_purge", retention_days: 0, kept: "forever" }));
    return null;
  }

  const before = new Date(scheduledTime - retentionDays * 86_400_000);
  const report: PurgeReport = {
    event: "retention_purge",
    retention_days: retentionDays,
    expired_before: before.toISOString(),
    sessions: 0,
    messages: 0,
    batches: 0,
    backlog: "remaining",
    ms: 0,
  };
  const db = createDatabase(env.HYPERDRIVE.connectionString, purgeLimits.databaseBudgetMs);
  return reportedRun(report, async () => {
    while (report.batches < purgeLimits.batchesPerRun) {
      const batch = await deleteExpiredSessions(db, {
        before,
        maxSessions: purgeLimits.batchSessions,
        maxMessages: purgeLimits.batchMessages,
      });
      report.batches += 1;
      report.sessions += batch.sessions;
      report.messages += batch.messages;
      if (!batch.more) {
        report.backlog = "drained";
        break;
      }
    }
  });
}
