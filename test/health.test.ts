// GET /health: the one query that tells an operator whether the database answers, and which settings
// the service refused.
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

  it("reports each refused setting by its variable, never its value, and says degraded", async () => {
    const shortToken = "short-admin-token-7q";
    const { response } = await callApp(createApp(), "/health", {}, {
      RAG_TOP_K: "abc",
      LLM_MODEL: "gpt-4o-mini",
      EMBEDDING_MODEL: "text-embedding-3-small",
      QDRANT_URL: "http://127.0.0.1:9",
      QDRANT_COLLECTION: "book",
      ADMIN_TOKEN: shortToken,
      SESSION_RETENTION_DAYS: "forever",
    } as Partial<Env>);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      status: "degraded",
      database: "ok",
      answer_provider: "unavailable",
      answer_problem: "RAG_TOP_K must be an integer from 1 to 50",
      admin_problem: "ADMIN_TOKEN must be at least 32 characters; the admin API and page are off",
      retention_problem: "SESSION_RETENTION_DAYS must be an integer from 0 to 36500",
    });
    expect(text).not.toMatch(/abc|forever|short-admin-token|gpt-4o-mini|127\.0\.0\.1/);
  });

  it("names the missing key of a model without one", async () => {
    const { response } = await callApp(createApp(), "/health", {}, { LLM_MODEL: "gpt-4o-mini" });
    expect(await response.json()).toEqual({
      status: "degraded",
      database: "ok",
      answer_provider: "unavailable",
      answer_problem: "missing LLM_API_KEY",
    });
  });

  it("reports no admin problem when ADMIN_TOKEN is unset: the admin surface is off on purpose", async () => {
    const { response } = await callApp(createApp(), "/health", {}, { ADMIN_TOKEN: "" } as Partial<Env>);
    expect(await response.json()).toEqual({ status: "ok", database: "ok", answer_provider: "echo" });
  });

  it("answers 503 database_unavailable quickly when the database cannot be reached", async () => {
    const { response } = await callApp(createApp(), "/health", {}, { HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE });
    const problem = await expectProblem(response, 503, "database_unavailable");
    expect(JSON.stringify(problem)).not.toMatch(/127\.0\.0\.1|postgres:\/\/|select/i);
  });
});
