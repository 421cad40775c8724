// Real answers (issue 4): retrieval from Qdrant, an OpenAI-compatible model, memory, streaming,
// failures. An app instance is configured to use the fake upstream of test/fakes on loopback,
// and each test checks what the service sent there and what it stored in PostgreSQL.
import { describe, expect, inject, it, vi } from "vitest";
import type { Responder } from "../src/answers/responder";
import { createApp } from "../src/app";
import { readServerSentEvents } from "../src/server-sent-events";
import { openSql } from "./helpers/database";
import { type ChatReply, callApp, chatRequest, expectProblem, history, type Message } from "./helpers/http";
import { newKey, ragEnv, recordedRequests, type Scenario, setScenario } from "./helpers/upstream";

const upstream = inject("fakeUpstreamUrl");

function send(bindings: Env, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return callApp(createApp(), "/api/chat", chatRequest(body, headers), bindings);
}

async function chat(bindings: Env, body: Record<string, unknown>): Promise<ChatReply> {
  const { response, finished } = await send(bindings, body);
  expect(response.status, await response.clone().text()).toBe(200);
  await finished();
  return response.json();
}

async function given(scenario: Scenario): Promise<string> {
  const key = newKey();
  await setScenario(upstream, key, scenario);
  return key;
}

type SseEvent = { event: string; data: any };

/** Reads server-sent events one at a time, so a test can act between them. */
function sseReader(response: Response) {
  const events = readServerSentEvents(response.body!);
  return {
    async next(): Promise<SseEvent | null> {
      const { done, value } = await events.next();
      return done ? null : { event: value.event, data: JSON.parse(value.data) };
    },
    // The client goes away: the response body is cancelled, as a closed connection cancels it.
    async cancel() {
      await events.return(undefined);
      await response.body!.cancel();
    },
  };
}

async function allEvents(response: Response): Promise<SseEvent[]> {
  const reader = sseReader(response);
  const events: SseEvent[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) events.push(e);
  return events;
}

/**
 * Stops the clock of the app under test (Date, setTimeout): the time in which a streamed answer's
 * pieces are batched moves only when the test moves it, not with the load of the machine. Timers
 * that are due without time passing still run, from a real timer (postgres.js connects from a
 * zero-delay timeout).
 */
function stopClock() {
  vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
  let running = true;
  void (async () => {
    while (running) {
      vi.advanceTimersByTime(0);
      await scheduler.wait(1);
    }
  })();
  return {
    restart() {
      running = false;
      vi.useRealTimers();
    },
  };
}

/** A model that writes one piece every `everyMs` of the (stopped) clock, moving the clock itself. */
function pacedModel(pieces: string[], everyMs: number): Responder {
  return {
    name: "paced",
    async answer({ onDelta }) {
      for (const [i, piece] of pieces.entries()) {
        if (i > 0) await vi.advanceTimersByTimeAsync(everyMs);
        onDelta?.(piece);
      }
      return { text: pieces.join(""), sources: [], metadata: {} };
    },
  };
}

async function storedMetadata(messageId: number): Promise<Record<string, any>> {
  const [row] = await openSql()`select metadata from chat_messages where id = ${messageId}`;
  return row!.metadata;
}

describe("a retrieval-augmented answer", () => {
  it("embeds the question, searches Qdrant and sends the model the passages, with the right credentials and models", async () => {
    const key = await given({ chat: { text: "The ZMP is where the net moment vanishes [1]." } });
    const reply = await chat(ragEnv(key), { question: "What is the ZMP?" });
    expect(reply.answer).toBe("The ZMP is where the net moment vanishes [1].");

    const [embedding, search, completion] = await recordedRequests(upstream, key);
    expect(embedding).toMatchObject({
      method: "POST",
      path: "/v1/embeddings",
      body: { model: "fake-embedding-model", input: "What is the ZMP?" },
    });
    expect(embedding!.headers.authorization).toBe(`Bearer ${key}`);
    expect(search).toMatchObject({ method: "POST", path: "/qdrant/collections/humanoid-book/points/search" });
    expect(search!.headers["api-key"]).toBe(key);
    expect(search!.body).toMatchObject({ vector: [0.1, 0.2, 0.3], limit: 3, with_payload: true });
    expect(completion).toMatchObject({ path: "/v1/chat/completions", body: { model: "fake-chat-model" } });
    expect(completion!.headers.authorization).toBe(`Bearer ${key}`);
    const prompt: { role: string; content: string }[] = completion!.body.messages;
    expect(prompt[0]!.role).toBe("system");
    expect(prompt[1]).toMatchObject({ role: "system", content: expect.stringContaining("zero moment point") });
    expect(prompt.at(-1)).toEqual({ role: "user", content: "What is the ZMP?" });
  });

  it("stores the answer with its sources and metadata (model, token usage, latency)", async () => {
    const key = await given({});
    const reply = await chat(ragEnv(key), { question: "How do humanoids balance?" });
    expect(reply.sources.length).toBeGreaterThan(0);
    expect(reply.sources[0]).toEqual({
      title: expect.any(String),
      url: expect.stringMatching(/^https?:/),
      snippet: expect.any(String),
      score: expect.any(Number),
    });
    const [, stored] = (await history(reply.session_uuid)).messages;
    expect(stored!.sources).toEqual(reply.sources);
    const metadata = await storedMetadata(reply.bot_message.id);
    expect(metadata).toMatchObject({
      model: "fake-chat-model",
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
      latency_ms: expect.any(Number),
      retrieval: { provider: "qdrant", passages: reply.sources.length },
    });
  });

  it("gives the model the earlier turns of the session, limited to HISTORY_TURNS messages", async () => {
    const key = await given({});
    const bindings = ragEnv(key, { HISTORY_TURNS: "3" });
    const first = await chat(bindings, { question: "First question" });
    await chat(bindings, { question: "Second question", session_uuid: first.session_uuid });
    await chat(bindings, { question: "Third question", session_uuid: first.session_uuid });
    const completions = (await recordedRequests(upstream, key)).filter((r) => r.path === "/v1/chat/completions");
    const lastPrompt: { role: string; content: string }[] = completions.at(-1)!.body.messages;
    expect(lastPrompt.filter((m) => m.role !== "system")).toEqual([
      { role: "assistant", content: "Fake answer." },
      { role: "user", content: "Second question" },
      { role: "assistant", content: "Fake answer." },
      { role: "user", content: "Third question" },
    ]);
  });

  it("gives a retried turn the same earlier messages, without the question twice", async () => {
    const key = await given({});
    const first = await chat(ragEnv(key), { question: "Earlier question" });
    await setScenario(upstream, key, { chat: { status: 500 } });
    const client_message_id = crypto.randomUUID();
    const failed = await send(ragEnv(key), {
      question: "Retried question",
      session_uuid: first.session_uuid,
      client_message_id,
    });
    await expectProblem(failed.response, 502, "answer_failed");
    await setScenario(upstream, key, {});
    await chat(ragEnv(key), { question: "Retried question", session_uuid: first.session_uuid, client_message_id });
    const [completion] = (await recordedRequests(upstream, key)).filter((r) => r.path === "/v1/chat/completions");
    const prompt: { role: string; content: string }[] = completion!.body.messages;
    expect(prompt.filter((m) => m.role !== "system")).toEqual([
      { role: "user", content: "Earlier question" },
      { role: "assistant", content: "Fake answer." },
      { role: "user", content: "Retried question" },
    ]);
  });

  it("answers without retrieval when Qdrant is not configured, and says so in metadata", async () => {
    const key = await given({});
    const bindings = ragEnv(key, { QDRANT_URL: undefined, QDRANT_API_KEY: undefined, QDRANT_COLLECTION: undefined });
    const reply = await chat(bindings, { question: "No retrieval?" });
    expect(reply.sources).toEqual([]);
    expect((await recordedRequests(upstream, key)).map((r) => r.path)).toEqual(["/v1/chat/completions"]);
    expect((await storedMetadata(reply.bot_message.id)).retrieval).toMatch(/disabled/);
  });
});

describe("streaming", () => {
  it("sends start, the model's deltas before the answer is complete, then done; and stores the answer", async () => {
    const key = await given({ chat: { chunks: ["Balance ", "comes ", "from the ZMP."], chunkDelayMs: 200 } });
    const { response, finished } = await send(ragEnv(key), { question: "Stream it" }, { Accept: "text/event-stream" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("text/event-stream");
    const sessionUuid = response.headers.get("X-Session-Id")!;
    const reader = sseReader(response);
    const start = await reader.next();
    expect(start).toMatchObject({
      event: "start",
      data: { session_uuid: sessionUuid, user_message: { seq: 1, message: "Stream it" } },
    });
    const firstDelta = await reader.next();
    expect(firstDelta).toEqual({ event: "delta", data: { text: "Balance " } });
    // The first piece arrived while the model was still writing: no answer is stored yet.
    expect((await history(sessionUuid)).messages.map((m) => m.sender)).toEqual(["user"]);
    const rest: SseEvent[] = [];
    for (let e = await reader.next(); e; e = await reader.next()) rest.push(e);
    await finished();
    expect(rest.map((e) => e.event)).toEqual(["delta", "delta", "done"]);
    const done = rest.at(-1)!.data.bot_message as Message;
    expect(done).toMatchObject({ seq: 2, sender: "bot", status: "complete", message: "Balance comes from the ZMP." });
    expect((await history(sessionUuid)).messages[1]).toEqual(done);
    const completion = (await recordedRequests(upstream, key)).find((r) => r.path === "/v1/chat/completions");
    expect(completion!.body).toMatchObject({ stream: true });
  });

  it('streams when the body says "stream": true', async () => {
    const key = await given({});
    const { response, finished } = await send(ragEnv(key), { question: "Stream by flag", stream: true });
    const events = await allEvents(response);
    await finished();
    expect(events.map((e) => e.event)).toEqual(["start", "delta", "delta", "done"]);
  });

  it("gathers a fast model's 1,000 pieces into two delta events: the first piece at once, the rest when the answer is done", async () => {
    const chunks = Array.from({ length: 1_000 }, (_, i) => `w${i} `);
    const key = await given({ chat: { chunks } });
    // The whole answer comes within one batching window, however busy the machine is.
    const clock = stopClock();
    try {
      const { response, finished } = await send(ragEnv(key), { question: "A long answer", stream: true });
      const events = await allEvents(response);
      await finished();
      const deltas = events.filter((e) => e.event === "delta").map((e) => e.data.text);
      expect(deltas).toEqual(["w0 ", chunks.slice(1).join("")]);
      expect(events.at(-1)!.data.bot_message.message).toBe(chunks.join(""));
    } finally {
      clock.restart();
    }
  });

  it("keeps sending a slow model's text as it comes, each delta holding what came within one batching window", async () => {
    const pieces = Array.from({ length: 30 }, (_, i) => `p${i} `);
    const clock = stopClock();
    try {
      // A piece every 20 ms of the stopped clock, for 580 ms, in windows of 50 ms.
      const app = createApp({ responderFor: () => pacedModel(pieces, 20) });
      const { response, finished } = await callApp(
        app,
        "/api/chat",
        chatRequest({ question: "A slow answer", stream: true }),
      );
      const events = await allEvents(response);
      await finished();
      const deltas = events.filter((e) => e.event === "delta").map((e) => e.data.text as string);
      expect(deltas[0]).toBe("p0 ");
      // 50 ms hold two or three pieces that come every 20 ms; never one event per piece, never more.
      for (const delta of deltas.slice(1)) expect(delta.trim().split(" ").length).toBeOneOf([2, 3]);
      expect(deltas.join("")).toBe(pieces.join(""));
      expect(events.at(-1)!.data.bot_message.message).toBe(pieces.join(""));
    } finally {
      clock.restart();
    }
  });

  it("finishes and stores the whole answer when the client disconnects mid-stream", async () => {
    const key = await given({ chat: { chunks: ["One ", "two ", "three ", "four."], chunkDelayMs: 100 } });
    const { response, finished } = await send(ragEnv(key), { question: "I will leave early", stream: true });
    const sessionUuid = response.headers.get("X-Session-Id")!;
    const reader = sseReader(response);
    expect((await reader.next())!.event).toBe("start");
    expect((await reader.next())!.data).toEqual({ text: "One " });
    await reader.cancel();
    await finished();
    const [, answer] = (await history(sessionUuid)).messages;
    expect(answer).toMatchObject({ sender: "bot", status: "complete", message: "One two three four." });
  });

  it("stores the part already sent as incomplete when the model stalls mid-stream, even with the client gone", async () => {
    const key = await given({ chat: { chunks: ["One ", "two ", "three ", "four."], stallAfterChunks: 2 } });
    const { response, finished } = await send(ragEnv(key, { LLM_TIMEOUT_MS: "500" }), {
      question: "Stalled answer",
      stream: true,
    });
    const sessionUuid = response.headers.get("X-Session-Id")!;
    const reader = sseReader(response);
    expect((await reader.next())!.event).toBe("start");
    expect((await reader.next())!.data).toEqual({ text: "One " });
    expect((await reader.next())!.data).toEqual({ text: "two " });
    await reader.cancel();
    await finished();
    const [, answer] = (await history(sessionUuid)).messages;
    expect(answer).toMatchObject({ sender: "bot", status: "incomplete", message: "One two " });
    expect((await storedMetadata(answer!.id)).cut_short).toBe("answer_timeout");
  });

  it("reports a stall as an answer_timeout error event after the deltas already sent", async () => {
    const key = await given({ chat: { chunks: ["Half ", "an answer"], stallAfterChunks: 1 } });
    const { response, finished } = await send(ragEnv(key, { LLM_TIMEOUT_MS: "300" }), {
      question: "Stall",
      stream: true,
    });
    const events = await allEvents(response);
    await finished();
    expect(events.map((e) => e.event)).toEqual(["start", "delta", "error"]);
    expect(events[2]!.data).toMatchObject({ status: 504, code: "answer_timeout" });
  });

  it("reports a model failure as an error event carrying a problem", async () => {
    const key = await given({ chat: { status: 500, body: "upstream exploded" } });
    const { response, finished } = await send(ragEnv(key), { question: "Fail while streaming", stream: true });
    const events = await allEvents(response);
    await finished();
    expect(events.map((e) => e.event)).toEqual(["start", "error"]);
    expect(events[1]!.data).toMatchObject({
      status: 502,
      code: "answer_failed",
      session_uuid: response.headers.get("X-Session-Id"),
    });
  });
});

describe("failures of the model or of Qdrant", () => {
  const failures: [string, Scenario | null, Record<string, string>, number, string][] = [
    ["the model answers HTTP 500", { chat: { status: 500 } }, {}, 502, "answer_failed"],
    ["the model answers HTTP 401", { chat: { status: 401 } }, {}, 502, "answer_failed"],
    ["the model answers malformed JSON", { chat: { body: "not json{" } }, {}, 502, "answer_failed"],
    ["the embeddings API answers HTTP 429", { embeddings: { status: 429 } }, {}, 502, "answer_failed"],
    ["Qdrant answers HTTP 503", { qdrant: { status: 503 } }, {}, 502, "answer_failed"],
    ["Qdrant answers malformed JSON", { qdrant: { body: "<html>" } }, {}, 502, "answer_failed"],
    ["the connection is dropped", { chat: { destroy: true } }, {}, 502, "answer_failed"],
    ["the model cannot be reached", null, { LLM_BASE_URL: "http://127.0.0.1:9/v1" }, 502, "answer_failed"],
    ["Qdrant cannot be reached", null, { QDRANT_URL: "http://127.0.0.1:9" }, 502, "answer_failed"],
    [
      "the model takes longer than LLM_TIMEOUT_MS",
      { chat: { hang: true } },
      { LLM_TIMEOUT_MS: "300" },
      504,
      "answer_timeout",
    ],
  ];

  it.each(failures)(
    "when %s: the problem (no secret in it or in the logs), the question kept, no answer stored, and a retry answers once",
    async (_, scenario, overrides, status, code) => {
      const key = await given(scenario ?? {});
      const client_message_id = crypto.randomUUID();
      const logged: unknown[][] = [];
      const spies = [vi.spyOn(console, "error"), vi.spyOn(console, "log"), vi.spyOn(console, "warn")].map((spy) =>
        spy.mockImplementation((...args) => void logged.push(args)),
      );
      const { response, finished } = await send(ragEnv(key, overrides), {
        question: "Will this work?",
        client_message_id,
      });
      const text = await response.clone().text();
      await finished();
      for (const spy of spies) spy.mockRestore();
      expect(text).not.toContain(key);
      expect(logged.length).toBeGreaterThan(0);
      expect(JSON.stringify(logged)).not.toContain(key);
      const problem = await expectProblem(response, status, code);
      await finished();
      const sessionUuid = problem.session_uuid as string;
      expect((await history(sessionUuid)).messages.map((m) => m.sender)).toEqual(["user"]);

      await setScenario(upstream, key, {});
      const retry = await chat(ragEnv(key), {
        question: "Will this work?",
        session_uuid: sessionUuid,
        client_message_id,
      });
      expect(retry.answer).toBe("Fake answer.");
      expect((await history(sessionUuid)).messages.map((m) => [m.seq, m.sender])).toEqual([
        [1, "user"],
        [2, "bot"],
      ]);
    },
  );
});

describe("configuration", () => {
  it("answers 503 answer_unavailable for a partial configuration, stores nothing, and /health names the problem", async () => {
    const bindings = ragEnv("some-key", { LLM_MODEL: undefined, QDRANT_COLLECTION: undefined });
    const { response } = await send(bindings, { question: "Anyone?" });
    const problem = await expectProblem(response, 503, "answer_unavailable");
    expect(problem.detail).toContain("LLM_MODEL");
    expect(problem.detail).toContain("QDRANT_COLLECTION");
    expect(response.headers.get("X-Session-Id")).toBeNull();

    const { response: health } = await callApp(createApp(), "/health", {}, bindings);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: "degraded",
      database: "ok",
      answer_provider: "unavailable",
      answer_problem: expect.stringContaining("LLM_MODEL"),
    });
  });

  it("answers 503 answer_unavailable for an invalid value, naming the variable but not the secrets", async () => {
    const { response } = await send(ragEnv("secret-key-value", { RAG_TOP_K: "lots" }), { question: "Anyone?" });
    const problem = await expectProblem(response, 503, "answer_unavailable");
    expect(problem.detail).toContain("RAG_TOP_K");
    expect(JSON.stringify(problem)).not.toContain("secret-key-value");
  });

  it("/health names the configured model provider", async () => {
    const { response: health } = await callApp(createApp(), "/health", {}, ragEnv("k"));
    expect(await health.json()).toMatchObject({
      status: "ok",
      answer_provider: "openai-compatible:fake-chat-model+qdrant",
    });
  });
});
