/**
 * A scheduled job's one log line (docs/api.md §11): its report of counts and how long it took,
 * written when it ends, and written with the database's error when it fails part-way, so that
 * what it did before the failure is still known. The retention purge and the statistics' fold
 * both run this way.
 */
import { describeDatabaseError } from "../db/errors";

export async function reportedRun<Report extends { ms: number }>(
  report: Report,
  work: (report: Report) => Promise<void>,
): Promise<Report> {
  const started = Date.now();
  try {
    await work(report);
  } catch (error) {
    report.ms = Date.now() - started;
    console.error(JSON.stringify({ ...report, error: describeDatabaseError(error) ?? { error: "unexpected" } }));
    throw error;
  }
  report.ms = Date.now() - started;
  console.log(JSON.stringify(report));
  return report;
}
