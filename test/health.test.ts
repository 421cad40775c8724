// GET /health: the one query that tells an operator whether the database answers.
// Calls the Worker's fetch handler, and an app instance bound to a port where nothing listens.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { call, callApp, expectProblem } from "./helpers/http";

describe("GET /health", () => {
  it("answers 200 with the database ok and names the answer provider", async () => {
    const response = await call("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", database: "ok", answer_provider: "echo" });
  });

  it("answers 503 database_unavailable quickly when the database cannot be reached", async () => {
    const { response } = await callApp(createApp(), "/health", {}, { HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE });
    const problem = await expectProblem(response, 503, "database_unavailable");
    expect(JSON.stringify(problem)).not.toMatch(/127\.0\.0\.1|postgres:\/\/|select/i);
  });
});
