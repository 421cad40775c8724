// What the service writes to its logs when the database fails: one line per failure that says why,
// and never a question, a full session UUID, SQL, its parameters or a connection string. Calls
// app instances bound to a database that is down, one that refuses connections, and the real one.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { createApp } from "../src/app";
import { createSession } from "../src/db/sessions";
import { ask, callApp, chatRequest } from "./helpers/http";

/** Everything written to the console during the test, and what of it at error level. */
let written: string[];
let writtenAsErrors: string[];

beforeEach(() => {
  written = [];
  writtenAsErrors = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      const line = args.map(String).join(" ");
      written.push(line);
      if (method === "error") writtenAsErrors.push(line);
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

function errorLines(): Record<string, any>[] {
  return writtenAsErrors.map((line) => JSON.parse(line));
}

function expectNothingSecret(...secrets: string[]) {
  const everything = written.join("\n");
  for (const secret of secrets) expect(everything).not.toContain(secret);
  expect(everything).not.toMatch(/select |insert |update chat_|params:/i);
}

describe("a failing database in the logs", () => {
  it("logs a database that is down as one line with the cause, and none of the request's data", async () => {
    const { session_uuid } = await ask("a conversation to continue");
    const question = `down-${crypto.randomUUID()}`;
    const bindings = { HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE };
    const { response, finished } = await callApp(
      createApp(),
      "/api/chat",
      chatRequest({ question, session_uuid }),
      bindings,
    );
    await finished();
    expect(response.status).toBe(503);
    expect(errorLines()).toEqual([
      {
        request_id: response.headers.get("X-Request-Id"),
        method: "POST",
        route: "/api/chat",
        status: 503,
        ms: expect.any(Number),
        code: "database_unavailable",
        cause: { error: expect.any(String), reason: expect.any(String) },
      },
    ]);
    expectNothingSecret(question, session_uuid, env.UNREACHABLE_HYPERDRIVE.connectionString);
  });

  it("logs a database out of connections with its SQLSTATE and the server's reason", async () => {
    const { session_uuid } = await ask("a conversation to continue");
    const question = `crowded-${crypto.randomUUID()}`;
    const bindings = { HYPERDRIVE: env.CROWDED_HYPERDRIVE };
    const { response, finished } = await callApp(
      createApp(),
      "/api/chat",
      chatRequest({ question, session_uuid }),
      bindings,
    );
    await finished();
    expect(response.status).toBe(503);
    expect(errorLines()).toEqual([
      expect.objectContaining({
        status: 503,
        code: "database_unavailable",
        cause: { error: "PostgresError", sqlstate: "53300", reason: expect.stringContaining("too many connections") },
      }),
    ]);
    expectNothingSecret(question, session_uuid, env.CROWDED_HYPERDRIVE.connectionString);
  });

  it("logs a constraint violation by SQLSTATE and constraint name, not by the values it quotes", async () => {
    const { session_uuid } = await ask("a session whose UUID is taken");
    const app = createApp();
    app.post("/api/test/duplicate-session", async (c) => c.json(await createSession(c.var.db, session_uuid)));
    const { response } = await callApp(app, "/api/test/duplicate-session", { method: "POST" });
    expect(response.status).toBe(500);
    expect(errorLines()).toEqual([
      expect.objectContaining({
        route: "/api/test/duplicate-session",
        status: 500,
        code: "internal_error",
        cause: { error: "PostgresError", sqlstate: "23505", constraint: "chat_sessions_session_uuid_unique" },
      }),
    ]);
    expectNothingSecret(session_uuid);
  });
});

describe("which requests are logged", () => {
  it("writes nothing for a success and one warning line for a client's mistake", async () => {
    const app = createApp();
    await callApp(app, "/health");
    expect(written).toEqual([]);
    const { response } = await callApp(app, `/api/sessions/${crypto.randomUUID()}`);
    expect(response.status).toBe(404);
    expect(writtenAsErrors).toEqual([]);
    expect(written.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ route: "/api/sessions/:session_uuid", status: 404, code: "session_not_found" }),
    ]);
  });

  it("writes nothing for a path that matches no route, nor for a method the path does not have", async () => {
    const app = createApp();
    expect((await callApp(app, "/api/nothing-here")).response.status).toBe(404);
    expect((await callApp(app, "/wp-login.php", { method: "POST" })).response.status).toBe(404);
    expect((await callApp(app, "/health", { method: "DELETE" })).response.status).toBe(405);
    expect(written).toEqual([]);
  });
});

describe("what a deployment keeps of a request", () => {
  it("keeps no request URL: no invocation log, no trace, no Logpush job, no Tail Worker", () => {
    // A session UUID in a path is a bearer capability; the platform's invocation log is titled
    // with the request's URL, and traces, Logpush and Tail Workers receive it too.
    const { observability, logpush, tailConsumers } = inject("deployedLogging");
    expect(observability).toEqual({
      enabled: true,
      logs: { enabled: true, invocation_logs: false },
      traces: { enabled: false },
    });
    expect(logpush).not.toBe(true);
    expect(tailConsumers ?? []).toEqual([]);
  });
});

describe("request ids", () => {
  it("keeps a short, safe X-Request-Id and replaces a long or odd one", async () => {
    const app = createApp();
    const kept = await callApp(app, "/health", { headers: { "X-Request-Id": "trace-abc_123=" } });
    expect(kept.response.headers.get("X-Request-Id")).toBe("trace-abc_123=");
    for (const odd of ["x".repeat(65), "a b", "<script>", "../etc"]) {
      const replaced = await callApp(app, "/health", { headers: { "X-Request-Id": odd } });
      expect(replaced.response.headers.get("X-Request-Id")).not.toBe(odd);
    }
  });
});
