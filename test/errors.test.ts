// The problem format of docs/api.md §7 and the headers every response carries: one test per code.
// Calls the Worker's fetch handler, or an app instance with a substituted responder or binding.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { Responder } from "../src/answers/responder";
import { createApp } from "../src/app";
import { maxChatBodyBytes } from "../src/schemas/chat";
import { ask, call, callApp, chatRequest, expectProblem, history, postChat } from "./helpers/http";

/** callApp, waiting for the request's background work before the test looks at the response. */
async function requestApp(
  app: ReturnType<typeof createApp>,
  path: string,
  init: RequestInit,
  bindings: Partial<Env> = {},
) {
  const { response, finished } = await callApp(app, path, init, bindings);
  await finished();
  return response;
}

describe("request validation", () => {
  it("answers 400 invalid_json for a malformed body", async () => {
    const response = await call("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"question": "hi"',
    });
    await expectProblem(response, 400, "invalid_json");
  });

  it("answers 400 invalid_json for a body that is not valid UTF-8", async () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"question":"caf'),
      0xe9,
      ...new TextEncoder().encode('"}'),
    ]);
    const response = await call("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: bytes,
    });
    await expectProblem(response, 400, "invalid_json");
  });

  it.each([
    ["a missing question", {}, "question"],
    ["an empty question", { question: "" }, "question"],
    ["a whitespace-only question", { question: " \n\t " }, "question"],
    ["a question over 8000 characters", { question: "a".repeat(8_001) }, "question"],
    ["a question with U+0000", { question: "nul\u0000here" }, "question"],
    ["a question with a lone surrogate", { question: "broken \ud83e" }, "question"],
    ["a question that is not a string", { question: 42 }, "question"],
    [
      "a malformed session_uuid",
      { question: "hi", session_uuid: "{6f1c1a52-7f5e-4a87-9d2e-3b8f0f3c9a10}" },
      "session_uuid",
    ],
    [
      "a session_uuid without dashes",
      { question: "hi", session_uuid: "6f1c1a527f5e4a879d2e3b8f0f3c9a10" },
      "session_uuid",
    ],
    ["a malformed client_message_id", { question: "hi", client_message_id: "abc" }, "client_message_id"],
    ["a stream flag that is not a boolean", { question: "hi", stream: "yes" }, "stream"],
    ["a body that is not an object", ["question"], ""],
    ["a body that is null", null, ""],
  ])("answers 400 validation_error for %s, storing nothing", async (_, body, path) => {
    const problem = await expectProblem(await postChat(body), 400, "validation_error");
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it("answers 400 validation_error for a malformed X-Session-Id header", async () => {
    const problem = await expectProblem(
      await postChat({ question: "hi" }, { "X-Session-Id": "urn:uuid:6f1c1a52-7f5e-4a87-9d2e-3b8f0f3c9a10" }),
      400,
      "validation_error",
    );
    expect(problem.errors).toEqual([{ path: "X-Session-Id", message: expect.any(String) }]);
  });

  it("answers 415 unsupported_media_type for a body that is not JSON", async () => {
    const response = await call("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: '{"question":"hi"}',
    });
    await expectProblem(response, 415, "unsupported_media_type");
  });

  it.each(["gzip", "zstd", "bogus", "identity, gzip"])(
    "answers 415 with Accept-Encoding: identity for a body in Content-Encoding %s, storing nothing",
    async (coding) => {
      const { session_uuid } = await ask("a conversation to continue");
      const json = new Blob([JSON.stringify({ question: "compressed?", session_uuid })]).stream();
      const gzipped = await new Response(json.pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
      const response = await call("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Content-Encoding": coding },
        body: gzipped,
      });
      await expectProblem(response, 415, "unsupported_media_type");
      expect(response.headers.get("Accept-Encoding")).toBe("identity");
      expect((await history(session_uuid)).messages).toHaveLength(2);
    },
  );

  it("takes a body whose Content-Encoding is identity", async () => {
    const response = await call("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Content-Encoding": "Identity" },
      body: JSON.stringify({ question: "plain" }),
    });
    expect(response.status).toBe(200);
  });

  it("admits the longest valid question however it is escaped: 8,000 emoji as \\u pairs (96 KB)", async () => {
    const body = `{"question": "${"\\ud83e\\udd16".repeat(8_000)}"}`;
    expect(body.length).toBeGreaterThan(96_000);
    const response = await call("/api/chat", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    expect(response.status).toBe(200);
    const reply = await response.json<{ user_message: { message: string } }>();
    expect(reply.user_message.message).toBe("🤖".repeat(8_000));
  });

  it("answers 413 payload_too_large for a chat body larger than any valid question makes, before parsing it", async () => {
    const response = await call("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: `{"question": "${"a".repeat(maxChatBodyBytes)}"`,
    });
    await expectProblem(response, 413, "payload_too_large");
  });

  it("answers 413 payload_too_large for a body over 64 KiB elsewhere, also when it is sent without a length", async () => {
    const body = `{"padding": "${"a".repeat(70_000)}"}`;
    const declared = await call("/api/sessions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    });
    await expectProblem(declared, 413, "payload_too_large");
    const chunked = await call("/api/sessions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: new Blob([body]).stream(),
    });
    await expectProblem(chunked, 413, "payload_too_large");
  });

  it("logs a client that leaves during its upload as 499, not as a 500 of ours", async () => {
    const errors = vi.spyOn(console, "error");
    const body = new ReadableStream({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('{"question": "half a'));
        controller.error(new Error("connection reset by peer"));
      },
    });
    // Straight to an app instance: the body stream's failure reaches the Worker as it would when
    // a client's connection drops mid-upload.
    const { response } = await callApp(createApp(), "/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    });
    expect(response.status).toBe(499);
    const lines = errors.mock.calls.map((args) => JSON.parse(String(args[0])));
    errors.mockRestore();
    expect(lines).toContainEqual(expect.objectContaining({ status: 499, code: "client_closed_request" }));
    expect(lines.map((line) => line.code)).not.toContain("internal_error");
  });
});

describe("POST /api/sessions bodies", () => {
  it.each([
    ["no body", {}],
    ["an empty JSON object", { headers: { "Content-Type": "application/json" }, body: "{}" }],
  ])("creates a session with %s", async (_, init) => {
    const response = await call("/api/sessions", { method: "POST", ...init });
    expect(response.status).toBe(201);
  });

  it.each([
    ["an HTML form (urlencoded)", "application/x-www-form-urlencoded", "a=1"],
    ["an HTML form (multipart)", "multipart/form-data; boundary=x", "--x--"],
    ["an HTML form (text/plain)", "text/plain", "a=1"],
    ["an empty cross-site form", "application/x-www-form-urlencoded", ""],
  ])("refuses %s with 415, creating nothing", async (_, type, body) => {
    const response = await call("/api/sessions", { method: "POST", headers: { "Content-Type": type }, body });
    await expectProblem(response, 415, "unsupported_media_type");
  });

  it("refuses a body that is not well-formed JSON with 400 invalid_json", async () => {
    const response = await call("/api/sessions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{",
    });
    await expectProblem(response, 400, "invalid_json");
  });
});

describe("routing", () => {
  it("answers 404 not_found for an unknown path, including a known one with a trailing slash", async () => {
    await expectProblem(await call("/api/nothing-here"), 404, "not_found");
    await expectProblem(await call("/api/chat/", { method: "POST" }), 404, "not_found");
    // The "." of a route path is literal: this is no path of ours, not a 405.
    await expectProblem(await call("/openapi_json", { method: "POST" }), 404, "not_found");
  });

  it("answers 405 method_not_allowed with Allow for a known path and a wrong method", async () => {
    const response = await call("/api/chat", { method: "GET" });
    await expectProblem(response, 405, "method_not_allowed");
    expect(response.headers.get("Allow")).toBe("POST");
    const onSession = await call(`/api/sessions/${crypto.randomUUID()}`, { method: "PUT" });
    await expectProblem(onSession, 405, "method_not_allowed");
    expect(onSession.headers.get("Allow")?.split(", ").sort()).toEqual(["DELETE", "GET", "HEAD", "PATCH"]);
  });

  it("answers 405 with only the fixed route's methods where a fixed path looks like a session's", async () => {
    // "import" is no session UUID: the methods of /api/sessions/:session_uuid do not apply to it.
    for (const method of ["GET", "HEAD", "DELETE", "PUT", "PATCH"]) {
      const response = await call("/api/sessions/import", { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("Allow"), method).toBe("POST");
      if (method !== "HEAD") await expectProblem(response, 405, "method_not_allowed");
    }
    const onSessions = await call("/api/sessions", { method: "PATCH" });
    await expectProblem(onSessions, 405, "method_not_allowed");
    expect(onSessions.headers.get("Allow")).toBe("POST");
  });
});

describe("rate limiting", () => {
  /**
   * Sends until the first 429, at most twice the limit: the limiter counts in fixed windows, so a
   * window that ends during the test lets some more through, but never fewer than the limit.
   */
  async function firstRefusal(limit: number, send: (client: Record<string, string>) => Promise<Response>) {
    const client = { "CF-Connecting-IP": `rate-${crypto.randomUUID()}` };
    for (let allowed = 0; allowed < 2 * limit; allowed++) {
      const response = await send(client);
      if (response.status === 429) return { allowed, response };
      expect(response.status).toBeLessThan(429);
      await response.body?.cancel();
    }
    throw new Error(`no 429 after ${2 * limit} requests`);
  }

  it.each([
    ["POST /api/chat", 20, (client: Record<string, string>) => postChat({ question: "again?" }, client)],
    [
      "POST /api/sessions",
      10,
      (client: Record<string, string>) => call("/api/sessions", { method: "POST", headers: client }),
    ],
    [
      "POST /api/sessions/import",
      30,
      // An empty object: counted before the body is validated, and refused quickly after.
      (client: Record<string, string>) =>
        call("/api/sessions/import", {
          method: "POST",
          headers: { ...client, "Content-Type": "application/json" },
          body: "{}",
        }),
    ],
    [
      "GET /api/sessions/{uuid}/messages",
      300,
      // A malformed UUID: the limit is counted before the path is checked, and 300 requests that
      // stop at validation keep the test quick.
      (client: Record<string, string>) => call("/api/sessions/not-a-uuid/messages", { headers: client }),
    ],
  ])(
    "answers 429 rate_limited with Retry-After once a client exceeds its budget for %s (%i a minute)",
    async (_, limit, send) => {
      const { allowed, response } = await firstRefusal(limit, send);
      expect(allowed).toBeGreaterThanOrEqual(limit);
      await expectProblem(response, 429, "rate_limited");
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    },
  );

  it("does not limit when RATE_LIMITS is off, as in npm run dev", async () => {
    const app = createApp();
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const init = chatRequest({ question: `unlimited ${i}` }, { "CF-Connecting-IP": "one-local-client" });
      const response = await requestApp(app, "/api/chat", init, { RATE_LIMITS: "off" } as Partial<Env>);
      statuses.push(response.status);
    }
    expect(statuses).toEqual(Array(22).fill(200));
  });
});

describe("failures of the service's dependencies", () => {
  it("answers 502 answer_failed with the session_uuid when the responder throws, keeping the question", async () => {
    const failing: Responder = {
      name: "failing",
      answer: async () => {
        throw new Error("model exploded: sk-secret");
      },
    };
    const app = createApp({ responderFor: () => failing });
    const client_message_id = crypto.randomUUID();
    const response = await requestApp(app, "/api/chat", chatRequest({ question: "will it fail?", client_message_id }));
    const problem = await expectProblem(response, 502, "answer_failed");
    expect(JSON.stringify(problem)).not.toContain("sk-secret");
    const sessionUuid = problem.session_uuid as string;
    expect(response.headers.get("X-Session-Id")).toBe(sessionUuid);
    const stored = await history(sessionUuid);
    expect(stored.messages.map((m) => [m.sender, m.message])).toEqual([["user", "will it fail?"]]);

    // The retry answers the kept question without storing it twice.
    const retry = await postChat({ question: "will it fail?", session_uuid: sessionUuid, client_message_id });
    expect(retry.status).toBe(200);
    const reply = await retry.json<{ user_message: { id: number }; bot_message: { seq: number } }>();
    expect(reply.user_message.id).toBe(stored.messages[0]!.id);
    expect(reply.bot_message.seq).toBe(2);
    expect((await history(sessionUuid)).messages).toHaveLength(2);
  });

  it("answers 504 answer_timeout when the responder takes longer than LLM_TIMEOUT_MS", async () => {
    const slow: Responder = {
      name: "slow",
      answer: ({ signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    };
    const app = createApp({ responderFor: () => slow });
    const response = await requestApp(app, "/api/chat", chatRequest({ question: "anyone there?" }), {
      LLM_TIMEOUT_MS: "50",
    } as Partial<Env>);
    const problem = await expectProblem(response, 504, "answer_timeout");
    expect((await history(problem.session_uuid as string)).messages).toHaveLength(1);
  });

  it("answers 503 database_unavailable when the database cannot be reached, without leaking details", async () => {
    const response = await requestApp(createApp(), "/api/chat", chatRequest({ question: "hello" }), {
      HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE,
    });
    const problem = await expectProblem(response, 503, "database_unavailable");
    expect(JSON.stringify(problem)).not.toMatch(/127\.0\.0\.1|postgres|insert|select/i);
    expect(response.headers.get("X-Session-Id")).toBeNull();
  });

  it("answers 500 internal_error for an unexpected failure, without its message or stack", async () => {
    const app = createApp();
    app.get("/explode", () => {
      throw new Error("secret internals at src/app.ts:42");
    });
    const response = await requestApp(app, "/explode", {});
    const problem = await expectProblem(response, 500, "internal_error");
    expect(JSON.stringify(problem)).not.toMatch(/secret|src\/|at /);
  });
});

describe("headers on every response", () => {
  it("sets X-Request-Id, honouring a sane incoming one, and secure headers", async () => {
    const generated = await call("/health");
    expect(generated.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const honoured = await call("/health", { headers: { "X-Request-Id": "trace-123" } });
    expect(honoured.headers.get("X-Request-Id")).toBe("trace-123");
    const replaced = await call("/health", { headers: { "X-Request-Id": "<script>" } });
    expect(replaced.headers.get("X-Request-Id")).not.toBe("<script>");
    const problem = await call("/nowhere");
    expect(problem.headers.get("X-Request-Id")).toEqual(expect.any(String));
    expect(problem.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });

  it("answers a CORS preflight from an allowed origin, exposing X-Session-Id and X-Request-Id", async () => {
    const response = await call("/api/chat", {
      method: "OPTIONS",
      headers: {
        Origin: "https://book.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-session-id",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://book.example");
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(response.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("x-session-id");
    const actual = await postChat({ question: "cors?" }, { Origin: "https://book.example" });
    expect(actual.headers.get("Access-Control-Allow-Origin")).toBe("https://book.example");
    expect(actual.headers.get("Access-Control-Expose-Headers")?.toLowerCase()).toContain("x-session-id");
    expect(actual.headers.get("Access-Control-Expose-Headers")?.toLowerCase()).toContain("x-request-id");
  });

  it("gives no CORS grant to an origin that is not configured", async () => {
    const response = await postChat({ question: "cors?" }, { Origin: "https://evil.example" });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

it("replays of an answered turn are served even when the answer model is failing", async () => {
  const client_message_id = crypto.randomUUID();
  const original = await ask("cached?", { client_message_id });
  const failing: Responder = {
    name: "failing",
    answer: async () => {
      throw new Error("down");
    },
  };
  const response = await requestApp(
    createApp({ responderFor: () => failing }),
    "/api/chat",
    chatRequest({ question: "cached?", session_uuid: original.session_uuid, client_message_id }),
  );
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual(original);
});
