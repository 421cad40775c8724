// GET /openapi.json (docs/api.md §10): the description covers every route the app serves, and the
// app's real responses, successes and problems of every route, match it: status, content type,
// body and headers. Calls the Worker's fetch handler, and app instances for the failures.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Responder } from "../src/answers/responder";
import { createApp } from "../src/app";
import { ask, call, callApp, chatRequest, postChat } from "./helpers/http";
import { documentChecker } from "./helpers/openapi";

type Document = Record<string, any>;

let document: Document;
let expectDocumented: ReturnType<typeof documentChecker>;

beforeAll(async () => {
  const response = await call("/openapi.json");
  expect(response.status).toBe(200);
  document = await response.json();
  expectDocumented = documentChecker(document);
});

/** Sends a request and checks its response against the document; returns the body. */
async function check(method: string, path: string, response: Response | Promise<Response>): Promise<string> {
  const received = await response;
  const body = await received.text();
  expectDocumented(method, path, received, body);
  return body;
}

const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

describe("the OpenAPI description", () => {
  it("is OpenAPI 3.1 and documents every route the app serves, with an operationId, tags and no security", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers).toEqual([expect.objectContaining({ url: "/" })]);
    const served = createApp()
      .routes.filter((route) => !["ALL", "HEAD"].includes(route.method))
      .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`);
    const operations = Object.entries(document.paths).flatMap(([path, item]: [string, any]) =>
      Object.entries(item)
        .filter(([key]) => key !== "parameters")
        .map(([method, operation]: [string, any]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
    );
    expect(operations.map((o) => o.name).sort()).toEqual([...new Set(served)].sort());
    for (const { name, operation } of operations) {
      expect(operation.operationId, name).toEqual(expect.any(String));
      expect(operation.tags, name).toHaveLength(1);
      expect(operation.security, name).toEqual([]);
      expect(operation.responses["405"]?.headers.Allow, `${name} documents 405 with Allow`).toBeDefined();
    }
  });

  it("names its schemas and uses them by reference", () => {
    for (const name of [
      "Message",
      "Problem",
      "Session",
      "HistoryPage",
      "ImportRequest",
      "SessionExport",
      "ChatStreamStart",
      "ChatStreamDelta",
      "ChatStreamDone",
    ]) {
      expect(document.components.schemas[name], name).toBeDefined();
    }
    const text = JSON.stringify(document.paths);
    expect(text).toContain("#/components/schemas/HistoryPage");
    expect(JSON.stringify(document.components.schemas.HistoryPage)).toContain("#/components/schemas/Message");
  });

  it("describes the chat request and the history query with the rules that validate them", () => {
    const { ChatRequest } = document.components.schemas;
    expect(ChatRequest.required).toEqual(["question"]);
    expect(ChatRequest.properties.question).toMatchObject({ type: "string", minLength: 1, maxLength: 8000 });
    expect(JSON.stringify(ChatRequest.properties.session_uuid)).toContain('"format":"uuid"');
    const limit = document.paths["/api/sessions/{session_uuid}/messages"].get.parameters.find(
      (p: any) => p.name === "limit",
    );
    expect(limit.schema).toEqual({ type: "integer", minimum: 1, maximum: 1000, default: 100 });
  });
});

describe("real responses match the description", () => {
  it("POST /api/chat: the JSON turn, the streamed turn, and its problems", async () => {
    const reply = await ask("What keeps a biped upright?");
    await check("POST", "/api/chat", postChat({ question: "And then?", session_uuid: reply.session_uuid }));
    await check("POST", "/api/chat", postChat({ question: "Stream it", stream: true }));
    await check(
      "POST",
      "/api/chat",
      call("/api/chat", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" }),
    );
    await check("POST", "/api/chat", postChat({ question: "" }));
    await check("POST", "/api/chat", postChat({ question: "x", session_uuid: crypto.randomUUID() }));
    await check(
      "POST",
      "/api/chat",
      postChat({ question: "x", session_uuid: reply.session_uuid }, { "X-Session-Id": crypto.randomUUID() }),
    );
    const key = crypto.randomUUID();
    await postChat({ question: "one", session_uuid: reply.session_uuid, client_message_id: key });
    await check(
      "POST",
      "/api/chat",
      postChat({ question: "two", session_uuid: reply.session_uuid, client_message_id: key }),
    );
    await check(
      "POST",
      "/api/chat",
      call("/api/chat", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "hi" }),
    );
    await check("POST", "/api/chat", call("/api/chat", json({ question: "a".repeat(100_000) })));
    await check("POST", "/api/chat", call("/api/chat", { method: "GET" }));
  });

  it("POST /api/chat: the failures of the model, of the database, and of the configuration", async () => {
    const failing: Responder = { name: "failing", answer: async () => Promise.reject(new Error("down")) };
    const slow: Responder = {
      name: "slow",
      answer: ({ signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    };
    const send = async (app: ReturnType<typeof createApp>, bindings: Partial<Env> = {}) => {
      const { response, finished } = await callApp(app, "/api/chat", chatRequest({ question: "fail?" }), bindings);
      await finished();
      return response;
    };
    await check("POST", "/api/chat", send(createApp({ responderFor: () => failing })));
    await check(
      "POST",
      "/api/chat",
      send(createApp({ responderFor: () => slow }), { LLM_TIMEOUT_MS: "20" } as Partial<Env>),
    );
    await check("POST", "/api/chat", send(createApp(), { HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE }));
    await check("POST", "/api/chat", send(createApp(), { LLM_MODEL: "only-a-model" } as Partial<Env>));
    const limited = { "CF-Connecting-IP": `openapi-${crypto.randomUUID()}` };
    let status = 0;
    for (let i = 0; i < 45 && status !== 429; i++) {
      const response = await postChat({ question: `q${i}` }, limited);
      status = response.status;
      if (status === 429) await check("POST", "/api/chat", response);
      else await response.body?.cancel();
    }
    expect(status).toBe(429);
  });

  it("the session endpoints, their history, and their problems", async () => {
    const path = "/api/sessions/{session_uuid}";
    const messages = `${path}/messages`;
    await check("POST", "/api/sessions", call("/api/sessions", { method: "POST" }));
    await check("POST", "/api/sessions", call("/api/sessions", json({})));
    await check(
      "POST",
      "/api/sessions",
      call("/api/sessions", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "a=1" }),
    );
    await check(
      "POST",
      "/api/sessions",
      call("/api/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" }),
    );
    await check("POST", "/api/sessions", call("/api/sessions", json({ padding: "a".repeat(70_000) })));
    const { session_uuid } = await ask("a session to read");
    await ask("another turn", { session_uuid });
    await check("GET", path, call(`/api/sessions/${session_uuid}`));
    await check("GET", path, call(`/api/sessions/${crypto.randomUUID()}`));
    await check("GET", path, call("/api/sessions/not-a-uuid"));
    await check(
      "GET",
      path,
      call(`/api/sessions/${session_uuid}`, { headers: { "X-Session-Id": crypto.randomUUID() } }),
    );
    const firstPage = await check("GET", messages, call(`/api/sessions/${session_uuid}/messages?limit=3`));
    const { next_cursor } = JSON.parse(firstPage);
    await check("GET", messages, call(`/api/sessions/${session_uuid}/messages?limit=3&cursor=${next_cursor}`));
    await check("GET", messages, call(`/api/sessions/${session_uuid}/messages?limit=0`));
    await check("GET", messages, call(`/api/sessions/${crypto.randomUUID()}/messages`));
    const exported = `${path}/export`;
    await check("GET", exported, call(`/api/sessions/${session_uuid}/export`));
    await check("GET", exported, call(`/api/sessions/${session_uuid}/export?format=markdown`));
    await check("GET", exported, call(`/api/sessions/${session_uuid}/export?format=pdf`));
    await check("GET", exported, call(`/api/sessions/${crypto.randomUUID()}/export`));
    await check("GET", exported, call(`/api/sessions/${session_uuid}/export`, { method: "POST" }));
    const { response: unreachable } = await callApp(
      createApp(),
      `/api/sessions/${session_uuid}/export`,
      {},
      {
        HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE,
      },
    );
    await check("GET", exported, unreachable);
    await check("GET", path, call(`/api/sessions/${session_uuid}`, { method: "PUT" }));
    await check("DELETE", path, call(`/api/sessions/${session_uuid}`, { method: "DELETE" }));
    await check("DELETE", path, call(`/api/sessions/${session_uuid}`, { method: "DELETE" }));
  });

  it("POST /api/sessions/import: the import, its retry, and its problems", async () => {
    const path = "/api/sessions/import";
    const import_id = crypto.randomUUID();
    const messages = [
      { sender: "user", message: "What is a ZMP?", timestamp: "2026-10-01T09:00:00.000Z" },
      { sender: "bot", message: "A point.", sources: [{ title: "Chapter 4", url: "https://book.example/ch4" }] },
    ];
    await check("POST", path, call(path, json({ import_id, messages })));
    await check("POST", path, call(path, json({ import_id, messages })));
    await check("POST", path, call(path, json({ import_id, messages: messages.slice(0, 1) })));
    await check("POST", path, call(path, json({ import_id: crypto.randomUUID(), messages: messages.slice(1) })));
    await check(
      "POST",
      path,
      call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: "[" }),
    );
    await check("POST", path, call(path, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "{}" }));
    await check("POST", path, call(path, json({ import_id, messages, padding: "x".repeat(1024 * 1024) })));
    await check("POST", path, call(path, { method: "PUT" }));
    const { response } = await callApp(createApp(), path, json({ import_id: crypto.randomUUID(), messages }), {
      HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE,
    });
    await check("POST", path, response);
  });

  it("the operations routes", async () => {
    await check("GET", "/health", call("/health"));
    const { response } = await callApp(createApp(), "/health", {}, { HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE });
    await check("GET", "/health", response);
    await check("GET", "/openapi.json", call("/openapi.json"));
    await check("GET", "/docs", call("/docs"));
    await check("GET", "/docs", call("/docs", { method: "POST" }));
  });
});
