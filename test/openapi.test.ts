// GET /openapi.json (docs/api.md §10): the description covers every route the app serves, and the
// app's real responses, successes and problems of every route, match it: status, content type,
// body and headers. Calls the Worker's fetch handler, and app instances for the failures.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { Responder } from "../src/answers/responder";
import { createApp } from "../src/app";
import { adminToken, callAdmin } from "./helpers/admin";
import { openSql } from "./helpers/database";
import { ask, call, callApp, chatRequest, postChat } from "./helpers/http";
import { documentChecker } from "./helpers/openapi";
import { seedConversation, seedReader } from "./helpers/seed";
import { newKey, ragEnv, setScenario } from "./helpers/upstream";

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
  it("is OpenAPI 3.1 and documents every route the app serves, with an operationId, tags and its security", () => {
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
    expect(document.components.securitySchemes).toEqual({
      adminToken: { type: "http", scheme: "bearer", description: expect.any(String) },
      readerToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: expect.any(String) },
    });
    for (const { name, operation } of operations) {
      expect(operation.operationId, name).toEqual(expect.any(String));
      expect(operation.tags, name).toHaveLength(1);
      // The admin API needs its bearer token, a reader's own routes the reader's; everything else,
      // the admin page included, nothing (a reader's token is optional there).
      const security = name.includes(" /api/admin/")
        ? [{ adminToken: [] }]
        : name.includes(" /api/me")
          ? [{ readerToken: [] }]
          : [];
      expect(operation.security, name).toEqual(security);
      expect(operation.responses["405"]?.headers.Allow, `${name} documents 405 with Allow`).toBeDefined();
    }
  });

  it("names its schemas and uses them by reference", () => {
    for (const name of [
      "Message",
      "Feedback",
      "FeedbackRequest",
      "AdminSessionsPage",
      "Conversation",
      "SearchPage",
      "Stats",
      "Problem",
      "Session",
      "HistoryPage",
      "ImportRequest",
      "SessionExport",
      "ChatStreamStart",
      "ChatStreamDelta",
      "ChatStreamDone",
      "UiChatRequest",
      "UiMessage",
      "UiMessagePage",
      "UiChunkStart",
      "UiChunkFinish",
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

describe("Swagger UI's Try it out, as pre-filled", () => {
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, item]: [string, any]) =>
      Object.entries(item)
        .filter(([key]) => key !== "parameters")
        .map(([method, operation]: [string, any]) => ({
          name: `${method.toUpperCase()} ${path}`,
          method,
          path,
          parameters: [...(item.parameters ?? []), ...(operation.parameters ?? [])],
          body: operation.requestBody?.content?.["application/json"],
        })),
    );

  it("pre-fills no session UUID, no message id, and a body only from an example of its own", () => {
    for (const { name, parameters, body } of operations()) {
      for (const parameter of parameters.filter((p: any) =>
        ["session_uuid", "X-Session-Id", "message_id"].includes(p.name),
      )) {
        expect(parameter.example, `${name}: ${parameter.name}`).toBeUndefined();
        expect(parameter.examples, `${name}: ${parameter.name}`).toBeUndefined();
      }
      if (!body) continue;
      // Without one, Swagger UI makes a body up from the schema, a made-up session UUID included.
      const examples = Object.values(body.examples ?? {}) as { value: unknown }[];
      expect(examples.length, `${name} has a request example`).toBeGreaterThan(0);
      // A claim's example names a session no database holds, on purpose: it answers not_found.
      for (const { value } of examples) expect(JSON.stringify(value), name).not.toContain('"session_uuid":');
    }
  });

  it("POST /api/chat and POST /api/ui/chat, sent as pre-filled, answer 200", async () => {
    for (const { method, path, parameters, body } of operations().filter((o) => o.path.endsWith("/chat"))) {
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      for (const parameter of parameters) {
        if (parameter.in === "header" && parameter.example !== undefined) headers[parameter.name] = parameter.example;
      }
      for (const [example, { value }] of Object.entries(body.examples) as [string, { value: unknown }][]) {
        const response = await call(path, { method: method.toUpperCase(), headers, body: JSON.stringify(value) });
        expect(response.status, `${method} ${path} with example ${example}`).toBe(200);
        await check(method.toUpperCase(), path, response);
      }
    }
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

  it("POST /api/ui/chat: the UI message stream of new, continued and replayed turns, and its problems", async () => {
    const uiChat = (body: unknown, headers: Record<string, string> = {}) =>
      call("/api/ui/chat", { ...json(body), headers: { "Content-Type": "application/json", ...headers } });
    const message = (text: string, id = crypto.randomUUID()) => ({ id, role: "user", parts: [{ type: "text", text }] });
    const first = message("What keeps a biped upright?");
    const started = await uiChat({ id: "useChat-own-id", messages: [first], trigger: "submit-message" });
    const session = started.headers.get("X-Session-Id")!;
    await check("POST", "/api/ui/chat", started);
    await check("POST", "/api/ui/chat", uiChat({ id: session, message: message("And then?") }));
    await check("POST", "/api/ui/chat", uiChat({ id: session, message: first, trigger: "regenerate-message" }));
    await check(
      "POST",
      "/api/ui/chat",
      uiChat({ id: session, message: { ...first, parts: [{ type: "text", text: "x" }] } }),
    );
    await check("POST", "/api/ui/chat", uiChat({ id: session, message: message("") }));
    await check(
      "POST",
      "/api/ui/chat",
      uiChat({ id: session, message: message("x") }, { "X-Session-Id": crypto.randomUUID() }),
    );
    await check(
      "POST",
      "/api/ui/chat",
      call("/api/ui/chat", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" }),
    );
    await check(
      "POST",
      "/api/ui/chat",
      call("/api/ui/chat", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "hi" }),
    );
    await check(
      "POST",
      "/api/ui/chat",
      uiChat({ messages: [message("a".repeat(7000))], padding: "a".repeat(300_000) }),
    );
    await check("POST", "/api/ui/chat", call("/api/ui/chat"));
  });

  it("POST /api/ui/chat: sources with and without a link, a failure after the text, a missing model, the database down", async () => {
    const withSources: Responder = {
      name: "with-sources",
      answer: async ({ onDelta }) => {
        onDelta?.("Grounded ");
        onDelta?.("answer.");
        return {
          text: "Grounded answer.",
          sources: [
            { title: "Chapter 3", url: "https://book.example/ch3", snippet: "ZMP…", score: 0.9 },
            { title: "Preface", url: null, snippet: "Why…", score: 0.5 },
          ],
          metadata: {},
        };
      },
    };
    const failingMidway: Responder = {
      name: "failing-midway",
      answer: async ({ onDelta }) => {
        onDelta?.("Half an ");
        throw new Error("down");
      },
    };
    const send = async (app: ReturnType<typeof createApp>, bindings: Partial<Env> = {}) => {
      const { response, finished } = await callApp(
        app,
        "/api/ui/chat",
        chatRequest({ message: { id: "m1", role: "user", parts: [{ type: "text", text: "fail?" }] } }),
        bindings,
      );
      const body = await check("POST", "/api/ui/chat", response);
      await finished();
      return body;
    };
    expect(await send(createApp({ responderFor: () => withSources }))).toContain('"type":"source-document"');
    expect(await send(createApp({ responderFor: () => failingMidway }))).toContain('"type":"error"');
    await send(createApp(), { LLM_MODEL: "only-a-model" } as Partial<Env>);
    await send(createApp(), { HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE });
    const limited = { "CF-Connecting-IP": `openapi-ui-${crypto.randomUUID()}` };
    let status = 0;
    for (let i = 0; i < 45 && status !== 429; i++) {
      const response = await call("/api/ui/chat", {
        ...chatRequest({ message: { id: `q${i}`, role: "user", parts: [{ type: "text", text: `q${i}` }] } }),
        headers: { "Content-Type": "application/json", ...limited },
      });
      status = response.status;
      if (status === 429) await check("POST", "/api/ui/chat", response);
      else await response.body?.cancel();
    }
    expect(status).toBe(429);
  });

  it("GET /api/ui/chat/{session_uuid}/messages: pages and problems", async () => {
    const path = "/api/ui/chat/{session_uuid}/messages";
    const { session_uuid } = await ask("a session to restore");
    await ask("another turn", { session_uuid });
    const firstPage = await check("GET", path, call(`/api/ui/chat/${session_uuid}/messages?limit=3`));
    const { next_cursor } = JSON.parse(firstPage);
    await check("GET", path, call(`/api/ui/chat/${session_uuid}/messages?limit=3&cursor=${next_cursor}`));
    await check("GET", path, call(`/api/ui/chat/${session_uuid}/messages?order=sideways`));
    await check("GET", path, call(`/api/ui/chat/${crypto.randomUUID()}/messages`));
    await check(
      "GET",
      path,
      call(`/api/ui/chat/${session_uuid}/messages`, { headers: { "X-Session-Id": crypto.randomUUID() } }),
    );
    await check("GET", path, call(`/api/ui/chat/${session_uuid}/messages`, { method: "POST" }));
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
    await check(
      "GET",
      exported,
      call(`/api/sessions/${session_uuid}/export`, { headers: { "X-Session-Id": crypto.randomUUID() } }),
    );
    const empty = (await (await call("/api/sessions", { method: "POST" })).json()) as { session_uuid: string };
    await check("GET", exported, call(`/api/sessions/${empty.session_uuid}/export?format=markdown`));
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
    const limited = { "Content-Type": "application/json", "CF-Connecting-IP": `openapi-import-${crypto.randomUUID()}` };
    let status = 0;
    for (let i = 0; i < 45 && status !== 429; i++) {
      const refused = await call(path, { method: "POST", headers: limited, body: "{}" });
      status = refused.status;
      if (status === 429) await check("POST", path, refused);
      else await refused.body?.cancel();
    }
    expect(status).toBe(429);
  });

  it("the operations routes", async () => {
    await check("GET", "/", call("/", { redirect: "manual" }));
    await check("GET", "/", call("/", { method: "POST" }));
    await check("GET", "/health", call("/health"));
    const refused = await callApp(createApp(), "/health", {}, {
      ADMIN_TOKEN: "short",
      RAG_TOP_K: "abc",
    } as Partial<Env>);
    await check("GET", "/health", refused.response);
    const { response } = await callApp(createApp(), "/health", {}, { HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE });
    await check("GET", "/health", response);
    await check("GET", "/openapi.json", call("/openapi.json"));
    await check("GET", "/docs", call("/docs"));
    await check("GET", "/docs", call("/docs", { method: "POST" }));
    const file = "/docs/swagger-ui/{file}";
    for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "index.html"]) {
      await check("GET", file, call(`/docs/swagger-ui/${name}`));
    }
    const etag = (await call("/docs/swagger-ui/swagger-ui.css")).headers.get("ETag")!;
    await check("GET", file, call("/docs/swagger-ui/swagger-ui.css", { headers: { "If-None-Match": etag } }));
    await check("GET", file, call("/docs/swagger-ui/swagger-ui.css", { method: "POST" }));
  });

  it("feedback on an answer, and its problems", async () => {
    const path = "/api/sessions/{session_uuid}/messages/{message_id}/feedback";
    const turn = await ask("Rate this");
    const at = (sessionUuid: string, id: number | string) => `/api/sessions/${sessionUuid}/messages/${id}/feedback`;
    const put = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      call(url, {
        method: "PUT",
        headers: { "Content-Type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const mine = at(turn.session_uuid, turn.bot_message.id);
    await check("PUT", path, put(mine, { rating: "up", comment: "good" }));
    await check("PUT", path, put(mine, { rating: "sideways" }));
    await check("PUT", path, put(at(turn.session_uuid, turn.user_message.id), { rating: "up" }));
    await check("PUT", path, put(at(turn.session_uuid, 999_999_999), { rating: "up" }));
    await check("PUT", path, put(at(crypto.randomUUID(), 1), { rating: "up" }));
    await check("PUT", path, put(mine, { rating: "up" }, { "X-Session-Id": crypto.randomUUID() }));
    await check("PUT", path, call(mine, { method: "PUT", headers: { "Content-Type": "application/json" }, body: "{" }));
    await check("PUT", path, call(mine, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: "up" }));
    await check("PUT", path, put(mine, { rating: "up", padding: "a".repeat(70_000) }));
    await check("PUT", path, call(mine, { method: "POST" }));
    await check("DELETE", path, call(mine, { method: "DELETE" }));
    await check("DELETE", path, call(at(turn.session_uuid, turn.user_message.id), { method: "DELETE" }));
    await check("DELETE", path, call(at(turn.session_uuid, "x"), { method: "DELETE" }));
    const limited = { "CF-Connecting-IP": `openapi-${crypto.randomUUID()}` };
    let status = 0;
    for (let i = 0; i < 70 && status !== 429; i++) {
      const response = await put(mine, { rating: "down" }, limited);
      status = response.status;
      if (status === 429) await check("PUT", path, response);
      else await response.body?.cancel();
    }
    expect(status).toBe(429);
  });

  it("the admin API: every operation's answer, the gate's problems, and the page", async () => {
    const turn = await ask("Find this answer about gyroscopes");
    const conversation = "/api/admin/sessions/{session_uuid}";
    await check("GET", "/api/admin/sessions", callAdmin("/api/admin/sessions?limit=1"));
    const page = JSON.parse(await check("GET", "/api/admin/sessions", callAdmin("/api/admin/sessions?limit=1")));
    await check("GET", "/api/admin/sessions", callAdmin(`/api/admin/sessions?limit=1&cursor=${page.next_cursor}`));
    await check("GET", "/api/admin/sessions", callAdmin("/api/admin/sessions?has_failures=maybe"));
    // A session a signed-in reader owns, listed by its reader's reference, and a reference that is none.
    const sql = openSql();
    const reader = await seedReader(sql);
    const owned = await seedConversation(sql, {
      createdAt: new Date(),
      readerId: reader.id,
      turns: [{ question: "Owned by a reader", at: new Date() }],
    });
    const theirs = JSON.parse(
      await check("GET", "/api/admin/sessions", callAdmin(`/api/admin/sessions?reader=${reader.reference}`)),
    );
    expect(theirs.sessions).toEqual([
      expect.objectContaining({ session_uuid: owned.sessionUuid, reader: reader.reference }),
    ]);
    await check("GET", "/api/admin/sessions", callAdmin("/api/admin/sessions?reader=nobody"));
    await check("GET", conversation, callAdmin(`/api/admin/sessions/${owned.sessionUuid}`));
    await check("GET", conversation, callAdmin(`/api/admin/sessions/${turn.session_uuid}`));
    await check("GET", conversation, callAdmin(`/api/admin/sessions/${crypto.randomUUID()}`));
    await check("GET", conversation, callAdmin("/api/admin/sessions/nope"));
    await check("GET", conversation, callAdmin(`/api/admin/sessions/${turn.session_uuid}`, { method: "DELETE" }));
    await check("GET", "/api/admin/search", callAdmin("/api/admin/search?q=gyroscopes"));
    await check("GET", "/api/admin/search", callAdmin("/api/admin/search?q="));
    // The CSV downloads (§13.12): a list's rows as text/csv, and its JSON route's problems.
    const csv = await check(
      "GET",
      "/api/admin/sessions.csv",
      callAdmin(`/api/admin/sessions.csv?reader=${reader.reference}`),
    );
    expect(csv).toContain(owned.sessionUuid);
    await check("GET", "/api/admin/sessions.csv", callAdmin("/api/admin/sessions.csv?has_failures=maybe"));
    expect(await check("GET", "/api/admin/search.csv", callAdmin("/api/admin/search.csv?q=gyroscopes"))).toContain(
      turn.session_uuid,
    );
    await check("GET", "/api/admin/search.csv", callAdmin("/api/admin/search.csv?q="));
    await check("GET", "/api/admin/stats", callAdmin("/api/admin/stats?bucket=hour"));
    await check("GET", "/api/admin/stats", callAdmin("/api/admin/stats?from=2026-01-02&to=2026-01-01"));
    // The content gaps and the answers rated down, each with rows, a next page and a 400.
    const hourAgo = new Date(Date.now() - 3_600_000);
    const weak = { title: "Chapter 9", url: null, snippet: "…", score: 0.2 };
    await seedConversation(openSql(), {
      createdAt: hourAgo,
      turns: [1, 2].map((n) => ({
        question: `A question the book misses, ${n}`,
        at: new Date(hourAgo.getTime() + n * 60_000),
        answer: {
          metadata: { retrieval: { provider: "qdrant" } },
          sources: n === 1 ? [weak] : [],
          feedback: { rating: "down" as const, comment: "Off topic.", at: new Date(hourAgo.getTime() + n * 120_000) },
        },
      })),
    });
    for (const path of ["/api/admin/gaps", "/api/admin/rated-down"]) {
      const firstPage = JSON.parse(await check("GET", path, callAdmin(`${path}?limit=1`)));
      expect(firstPage.next_cursor).not.toBeNull();
      await check("GET", path, callAdmin(`${path}?limit=1&cursor=${firstPage.next_cursor}`));
      await check("GET", path, callAdmin(`${path}?from=2026-01-02&to=2026-01-01`));
      await check("GET", path, callAdmin(`${path}?cursor=nope`));
    }
    await check("GET", "/api/admin/gaps", callAdmin("/api/admin/gaps?below=0.9"));
    await check("GET", "/api/admin/stats", call("/api/admin/stats"));
    await check("GET", "/api/admin/stats", callAdmin("/api/admin/stats", {}, `${adminToken}-not`));
    await check("GET", "/api/admin/stats", callAdmin("/api/admin/stats", { method: "POST" }));
    const frequent = "/api/admin/frequent-questions";
    const questions = JSON.parse(await check("GET", frequent, callAdmin(`${frequent}?limit=1`)));
    if (questions.next_cursor)
      await check("GET", frequent, callAdmin(`${frequent}?limit=1&cursor=${questions.next_cursor}`));
    await check("GET", frequent, callAdmin(`${frequent}?from=2026-01-01T00:30:00Z`));
    await check("GET", "/api/admin/sources", callAdmin("/api/admin/sources?limit=1"));
    await check("GET", "/api/admin/sources", callAdmin("/api/admin/sources?cursor=nope"));
    const uncited = "/api/admin/sources/uncited";
    await check("GET", uncited, callAdmin(uncited));
    const adminAuthorization = { headers: { Authorization: `Bearer ${adminToken}` } };
    const listed = newKey();
    await setScenario(inject("fakeUpstreamUrl"), listed, {});
    await check(
      "GET",
      uncited,
      (await callApp(createApp(), `${uncited}?limit=1`, adminAuthorization, ragEnv(listed))).response,
    );
    const broken = newKey();
    await setScenario(inject("fakeUpstreamUrl"), broken, { qdrant: { status: 500 } });
    await check("GET", uncited, (await callApp(createApp(), uncited, adminAuthorization, ragEnv(broken))).response);
    const switchedOff = { ADMIN_TOKEN: "" } as Partial<Env>;
    const off = await callApp(
      createApp(),
      "/api/admin/stats",
      { headers: { Authorization: `Bearer ${adminToken}` } },
      switchedOff,
    );
    await check("GET", "/api/admin/stats", off.response);
    const limited = { "CF-Connecting-IP": `openapi-${crypto.randomUUID()}` };
    let status = 0;
    // Twice the limit: the limiter's window may roll over during the loop.
    for (let i = 0; i < 250 && status !== 429; i++) {
      const response = await callAdmin("/api/admin/stats?bucket=hour", { headers: limited }, "wrong");
      status = response.status;
      if (status === 429) await check("GET", "/api/admin/stats", response);
      else await response.body?.cancel();
    }
    expect(status).toBe(429);
    const down = await callApp(
      createApp(),
      "/api/admin/sessions",
      { headers: { Authorization: `Bearer ${adminToken}` } },
      { HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE },
    );
    await check("GET", "/api/admin/sessions", down.response);

    await check("GET", "/admin", call("/admin"));
    await check("GET", "/admin", call("/admin", { method: "POST" }));
    await check("GET", "/admin", (await callApp(createApp(), "/admin", {}, switchedOff)).response);
  });
});

describe("GET /", () => {
  it("sends a newcomer to the interactive reference at /docs", async () => {
    const response = await call("/", { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/docs");
    const docs = await call(new URL(response.headers.get("Location")!, "http://chat.test").pathname);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("Chat history API reference");
  });
});

describe("GET /docs", () => {
  it("serves the reference page, which links to /openapi.json in plain HTML and loads only this origin's files", async () => {
    const response = await call("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("text/html");
    const page = await response.text();
    expect(page).toMatch(/<h1>[^<]+<\/h1>/);
    expect(page).toContain('<a href="/openapi.json">');
    expect(page).toContain("<noscript>");
    expect(page).toContain('<script src="/docs/swagger-ui/swagger-ui-bundle.js">');
    expect(page).toContain('<link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css">');
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it("allows only this origin and its one inline script, by hash, and keeps the secure headers", async () => {
    const response = await call("/docs");
    const policy = response.headers.get("Content-Security-Policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    const inline = [...(await response.text()).matchAll(/<script>([^<]*)<\/script>/g)].map((match) => match[1]!);
    expect(inline).toHaveLength(1);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(inline[0]));
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
    expect(policy).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
  });

  it("serves Swagger UI's files from the pinned package, each with its type, and 304 while unchanged", async () => {
    const expected = {
      "swagger-ui-bundle.js": { type: "text/javascript; charset=utf-8", start: "/*! For license information" },
      "swagger-ui.css": { type: "text/css; charset=utf-8", start: ".swagger-ui" },
    };
    for (const [name, { type, start }] of Object.entries(expected)) {
      const response = await call(`/docs/swagger-ui/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get("Content-Type"), name).toBe(type);
      expect(response.headers.get("X-Content-Type-Options"), name).toBe("nosniff");
      expect(response.headers.get("Cross-Origin-Resource-Policy"), name).toBe("same-origin");
      expect((await response.text()).startsWith(start), name).toBe(true);
    }
    const icon = await call("/docs/swagger-ui/favicon-32x32.png");
    expect(icon.headers.get("Content-Type")).toBe("image/png");
    // The PNG signature: the bytes arrive unchanged, not as text.
    expect([...new Uint8Array(await icon.arrayBuffer()).slice(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);

    const etag = icon.headers.get("ETag")!;
    expect(etag).toMatch(/^"swagger-ui-dist-\d+\.\d+\.\d+"$/);
    expect(icon.headers.get("Cache-Control")).toBe("public, max-age=86400");
    const again = await call("/docs/swagger-ui/swagger-ui-bundle.js", { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const old = await call("/docs/swagger-ui/swagger-ui-bundle.js", {
      headers: { "If-None-Match": '"swagger-ui-dist-0.0.1"' },
    });
    expect(old.status).toBe(200);
    await old.body?.cancel();
    // RFC 9110 §13.1.2: a list of entity tags, compared weakly, or "*"; anything else names nothing.
    const bare = etag.slice(1, -1);
    for (const [header, status] of [
      [`"other", ${etag}`, 304],
      [`W/${etag}`, 304],
      ["*", 304],
      [`${etag}x`, 200],
      [bare, 200],
      [`"x${bare}"`, 200],
      [`${etag},`, 200],
    ] as const) {
      const response = await call("/docs/swagger-ui/swagger-ui.css", { headers: { "If-None-Match": header } });
      expect(response.status, header).toBe(status);
      await response.body?.cancel();
    }

    for (const name of ["index.html", "swagger-ui-bundle.js.map", "..%2Fpackage.json", "constructor"]) {
      const missing = await call(`/docs/swagger-ui/${name}`);
      expect(missing.status, name).toBe(404);
      await missing.body?.cancel();
    }
  });
});
