import { Hono } from "hono";
import type { AppEnv } from "../context";
import { pingDatabase } from "../db/queries";
import { withDeadline } from "../deadline";
import { ApiError } from "../http/problem";

// Well under the 5 s an uptime check waits, and longer than a connect to a healthy database.
const healthDeadlineMs = 2_500;

export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  try {
    await withDeadline(healthDeadlineMs, () => pingDatabase(c.var.db));
  } catch (error) {
    throw new ApiError("database_unavailable", "the database cannot be reached", { cause: error });
  }
  const { provider, problem } = c.var.answers;
  // The database is what /health answers for; an unusable answer model is reported, not fatal.
  return c.json({
    status: problem ? "degraded" : "ok",
    database: "ok",
    answer_provider: provider,
    ...(problem ? { answer_problem: problem } : {}),
  });
});
