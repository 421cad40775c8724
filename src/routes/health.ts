import { Hono } from "hono";
import type { z } from "zod";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { pingDatabase } from "../db/client";
import { withDeadline } from "../deadline";
import { ApiError } from "../http/problem";
import { describeRoute } from "../openapi/declarations";
import { headers } from "../openapi/headers";
import { json, schemaRef } from "../openapi/schemas";
import type { healthSchema } from "../schemas/responses";

// Well under the 5 s an uptime check waits, and longer than a connect to a healthy database.
const healthDeadlineMs = 2_500;

const getHealthDoc = describeRoute(() => ({
  operationId: "getHealth",
  tags: ["operations"],
  summary: "Whether the database answers, which answer model is in use, and which settings were refused",
  responses: {
    "200": { description: "The database answers", headers: headers(), content: json(schemaRef("Health")) },
  },
  problems: ["database_unavailable"],
}));

export const healthRoutes = new Hono<AppEnv>().get("/", getHealthDoc, async (c) => {
  try {
    await withDeadline(healthDeadlineMs, () => pingDatabase(c.var.db));
  } catch (error) {
    throw new ApiError("database_unavailable", "the database cannot be reached", { cause: error });
  }
  const { provider, problem } = c.var.answers;
  const { adminProblem, retentionProblem, authProblem } = readConfig(c.env);
  // The database is what /health answers for; a refused setting is reported, not fatal.
  const degraded = Boolean(problem || adminProblem || retentionProblem || authProblem);
  return c.json({
    status: degraded ? ("degraded" as const) : ("ok" as const),
    database: "ok" as const,
    answer_provider: provider,
    ...(problem ? { answer_problem: problem } : {}),
    ...(adminProblem ? { admin_problem: adminProblem } : {}),
    ...(retentionProblem ? { retention_problem: retentionProblem } : {}),
    ...(authProblem ? { auth_problem: authProblem } : {}),
  } satisfies z.input<typeof healthSchema>);
});
