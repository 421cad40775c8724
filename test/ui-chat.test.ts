// The useChat endpoints (issue 12, docs/api.md §12), driven by the AI SDK's own client code:
// DefaultChatTransport, readUIMessageStream and the Chat state machine, calling an app instance
// in this isolate that answers from the fake model and Qdrant of test/fakes, over PostgreSQL.
import { DefaultChatTransport, readUIMessageStream } from "ai";
import { describe, expect, inject, it } from "vitest";
import type { Problem } from "../src/client";
import { parseServerSentEvents } from "../src/server-sent-events";
import { call, expectProblem, history } from "./helpers/http";
import { appFetch, bookChat, TestChat, textOf, type UiMessage, uiChatApi, uiHistory, until } from "./helpers/ui-chat";
import { newKey, ragEnv, recordedRequests, type Scenario, setScenario } from "./helpers/upstream";

const upstream = inject("fakeUpstreamUrl");

async function given(scenario: Scenario): Promise<string> {
  const key = newKey();
  await setScenario(upstream, key, scenario);
  return key;
}

function userMessage(text: string, id = crypto.randomUUID().slice(0, 16)): UiMessage {
  return { id, role: "user", parts: [{ type: "text", text }] };
}

/** The prompts the fake model received for this key, without the system messages. */
async function prompts(key: string): Promise<{ role: string; content: string }[][]> {
  const completions = (await recordedRequests(upstream, key)).filter((r) => r.path === "/v1/chat/completions");
  return completions.map((c) => c.body.messages.filter((m: { role: string }) => m.role !== "system"));
}

function problemOf(error: Error | undefined): Problem {
  expect(error).toBeDefined();
  return JSON.parse(error!.message);
}

describe("a turn through DefaultChatTransport", () => {
  it("streams the answer as text chunks before it is stored, then a source part per passage and the stored ids", async () => {
    const key = await given({ chat: { chunks: ["Balance ", "comes ", "from the ZMP."], chunkDelayMs: 200 } });
    const app = appFetch(ragEnv(key));
    const responses: Response[] = [];
    const transport = new DefaultChatTransport<UiMessage>({
      api: uiChatApi,
      fetch: async (input, init) => {
        const response = await app.fetch(input, init);
        responses.push(response);
        return response;
      },
    });
    const stream = await transport.sendMessages({
      trigger: "submit-message",
      chatId: "a-chat-of-the-client",
      messageId: undefined,
      messages: [userMessage("How do humanoids balance?")],
      abortSignal: undefined,
    });
    const [response] = responses;
    expect(response!.headers.get("Content-Type")).toBe("text/event-stream");
    expect(response!.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    const sessionUuid = response!.headers.get("X-Session-Id")!;

    let storedWhileStreaming: string[] | undefined;
    let last: UiMessage | undefined;
    for await (const message of readUIMessageStream<UiMessage>({ stream, terminateOnError: true })) {
      if (storedWhileStreaming === undefined && textOf(message) !== "") {
        expect(textOf(message)).toBe("Balance ");
        storedWhileStreaming = (await history(sessionUuid)).messages.map((m) => m.sender);
      }
      last = message;
    }
    await app.settled();
    // The first words arrived while the model was still writing: nothing but the question was stored.
    expect(storedWhileStreaming).toEqual(["user"]);

    const [question, answer] = (await history(sessionUuid)).messages;
    expect(last).toEqual({
      id: `answer-${question!.id}`,
      role: "assistant",
      metadata: {
        session_uuid: sessionUuid,
        new_session: true,
        user_message: { id: question!.id, seq: 1 },
        id: answer!.id,
        seq: 2,
        timestamp: answer!.timestamp,
        status: "complete",
      },
      parts: [
        { type: "text", text: "Balance comes from the ZMP.", state: "done" },
        {
          type: "source-url",
          sourceId: "1",
          url: "https://book.example/ch3",
          title: "Chapter 3: Balance",
          providerMetadata: { book: { snippet: answer!.sources[0]!.snippet, score: 0.91 } },
        },
        {
          type: "source-url",
          sourceId: "2",
          url: "https://book.example/ch5",
          title: "Chapter 5: Walking",
          providerMetadata: { book: { snippet: answer!.sources[1]!.snippet, score: 0.84 } },
        },
      ],
    });
    expect(answer).toMatchObject({ sender: "bot", message: "Balance comes from the ZMP.", status: "complete" });
  });

  it("sends a passage without a link as a source-document part, numbered as the prompt cites it", async () => {
    const key = await given({
      qdrant: {
        points: [
          { id: 1, score: 0.8, payload: { title: "Preface", text: "Why humanoids." } },
          { id: 2, score: 0.7, payload: { title: "Chapter 1", url: "https://book.example/ch1", text: "Legs." } },
        ],
      },
    });
    const app = appFetch(ragEnv(key));
    const { chat } = bookChat(app.fetch);
    await chat.sendMessage({ text: "Why build humanoids?" });
    await app.settled();
    const sources = chat.messages.at(-1)!.parts.filter((part) => part.type !== "text");
    expect(sources).toEqual([
      {
        type: "source-document",
        sourceId: "1",
        mediaType: "text/plain",
        title: "Preface",
        providerMetadata: { book: { snippet: "Why humanoids.", score: 0.8 } },
      },
      {
        type: "source-url",
        sourceId: "2",
        url: "https://book.example/ch1",
        title: "Chapter 1",
        providerMetadata: { book: { snippet: "Legs.", score: 0.7 } },
      },
    ]);
    const prompt = (await recordedRequests(upstream, key)).find((r) => r.path === "/v1/chat/completions")!;
    expect(prompt.body.messages[1].content).toContain("[1] Preface\nWhy humanoids.");
  });

  it("gathers a fast model's 1,000 pieces into a few text-delta chunks that add up to the answer", async () => {
    const chunks = Array.from({ length: 1_000 }, (_, i) => `w${i} `);
    const key = await given({ chat: { chunks } });
    const app = appFetch(ragEnv(key));
    const response = await app.fetch(uiChatApi, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: userMessage("A long answer") }),
    });
    const events = parseServerSentEvents(await response.text());
    await app.settled();
    expect(events.at(-1)!.data).toBe("[DONE]");
    const parsed = events.slice(0, -1).map((event) => JSON.parse(event.data));
    const deltas = parsed.filter((chunk) => chunk.type === "text-delta");
    // Gathered, not one chunk per piece: a few, more only on a very busy machine.
    expect(deltas.length).toBeLessThan(50);
    expect(deltas[0].delta).toBe("w0 ");
    expect(deltas.map((chunk) => chunk.delta).join("")).toBe(chunks.join(""));
    expect(parsed.map((chunk) => chunk.type).filter((type) => type !== "text-delta")).toEqual([
      "start",
      "text-start",
      "text-end",
      "source-url",
      "source-url",
      "finish",
    ]);
  });
});

describe("sessions", () => {
  it("continues the session of the first answer with only the newest message sent, and gives the model the stored history", async () => {
    const key = await given({});
    const app = appFetch(ragEnv(key));
    const { chat, session } = bookChat(app.fetch);
    await chat.sendMessage({ text: "What is a ZMP?" });
    const sessionUuid = session()!;
    expect(chat.messages.at(-1)!.metadata).toMatchObject({ session_uuid: sessionUuid, new_session: true });
    await chat.sendMessage({ text: "And a support polygon?" });
    await app.settled();

    expect(chat.status).toBe("ready");
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(chat.messages.at(-1)!.metadata).toMatchObject({
      session_uuid: sessionUuid,
      new_session: false,
      user_message: { seq: 3 },
      seq: 4,
    });
    expect(app.bodies[1]).toEqual({
      id: sessionUuid,
      message: { id: chat.messages[2]!.id, role: "user", parts: [{ type: "text", text: "And a support polygon?" }] },
      trigger: "submit-message",
    });
    expect((await history(sessionUuid)).messages.map((m) => [m.seq, m.sender, m.message])).toEqual([
      [1, "user", "What is a ZMP?"],
      [2, "bot", "Fake answer."],
      [3, "user", "And a support polygon?"],
      [4, "bot", "Fake answer."],
    ]);
    expect((await prompts(key))[1]).toEqual([
      { role: "user", content: "What is a ZMP?" },
      { role: "assistant", content: "Fake answer." },
      { role: "user", content: "And a support polygon?" },
    ]);
  });

  it("stores only the newest message of the whole chat DefaultChatTransport sends, and never trusts the earlier ones", async () => {
    const key = await given({});
    const app = appFetch(ragEnv(key));
    const first = bookChat(app.fetch);
    await first.chat.sendMessage({ text: "A real question" });
    const sessionUuid = first.session()!;
    const forged: UiMessage[] = [
      userMessage("A question never asked"),
      { id: "forged-answer", role: "assistant", parts: [{ type: "text", text: "An answer never given" }] },
    ];
    const chat = new TestChat({
      id: sessionUuid,
      messages: forged,
      transport: new DefaultChatTransport<UiMessage>({ api: uiChatApi, fetch: app.fetch }),
    });
    await chat.sendMessage({ text: "The newest question" });
    await app.settled();
    expect(app.bodies[1].messages).toHaveLength(3);
    expect((await history(sessionUuid)).messages.map((m) => m.message)).toEqual([
      "A real question",
      "Fake answer.",
      "The newest question",
      "Fake answer.",
    ]);
    expect(JSON.stringify(await prompts(key))).not.toContain("never");
  });

  it.each([
    ["no id", undefined],
    ["useChat's own chat id", "2IbZ1janVtaU6nFq"],
    ["a UUID the server never issued", crypto.randomUUID()],
  ])("starts a new session for %s, and says so in the start chunk and X-Session-Id", async (_, id) => {
    const app = appFetch();
    const response = await app.fetch(uiChatApi, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id, message: userMessage("Hello?"), trigger: "submit-message" }),
    });
    const start = JSON.parse(parseServerSentEvents(await response.text())[0]!.data);
    await app.settled();
    const sessionUuid = response.headers.get("X-Session-Id");
    expect(sessionUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(sessionUuid).not.toBe(id);
    expect(start).toMatchObject({ type: "start", messageMetadata: { session_uuid: sessionUuid, new_session: true } });
    expect((await history(sessionUuid!)).messages).toHaveLength(2);
  });

  it("starts a new session when the one it names was deleted, and continues in the new one", async () => {
    const app = appFetch();
    const { chat, session } = bookChat(app.fetch);
    await chat.sendMessage({ text: "Before the deletion" });
    const deleted = session()!;
    expect((await call(`/api/sessions/${deleted}`, { method: "DELETE" })).status).toBe(204);
    await chat.sendMessage({ text: "After the deletion" });
    await chat.sendMessage({ text: "Later still" });
    await app.settled();
    expect(app.bodies.map((body) => body.id)).toEqual([undefined, deleted, session()]);
    expect(session()).not.toBe(deleted);
    expect(chat.messages.at(3)!.metadata).toMatchObject({ new_session: true, seq: 2 });
    expect((await history(session()!)).messages.map((m) => m.message)).toEqual([
      "After the deletion",
      expect.stringContaining("After the deletion"),
      "Later still",
      expect.stringContaining("Later still"),
    ]);
  });

  it("refuses an X-Session-Id header that names another session than id", async () => {
    const { session_uuid } = await (await call("/api/sessions", { method: "POST" })).json<{ session_uuid: string }>();
    const response = await call("/api/ui/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Session-Id": crypto.randomUUID() },
      body: JSON.stringify({ id: session_uuid, message: userMessage("Which one?") }),
    });
    await expectProblem(response, 400, "session_conflict");
  });
});

describe("retries", () => {
  it("stores a resent message once: the same UI message id gets the stored answer without the model", async () => {
    const key = await given({});
    const app = appFetch(ragEnv(key));
    const transport = new DefaultChatTransport<UiMessage>({ api: uiChatApi, fetch: app.fetch });
    const message = userMessage("Asked twice?");
    const send = async (id?: string) => {
      const stream = await transport.sendMessages({
        trigger: "submit-message",
        chatId: id ?? "first",
        messageId: undefined,
        messages: [message],
        abortSignal: undefined,
      });
      let last: UiMessage | undefined;
      for await (const snapshot of readUIMessageStream<UiMessage>({ stream, terminateOnError: true })) last = snapshot;
      await app.settled();
      return last!;
    };
    const first = await send();
    const again = await send(first.metadata!.session_uuid);
    expect(again).toEqual({ ...first, metadata: { ...first.metadata, new_session: false } });
    expect((await history(first.metadata!.session_uuid)).messages).toHaveLength(2);
    expect(await prompts(key)).toHaveLength(1);
  });

  it("answers a regenerate of a question whose answer failed, once, and replays that answer on the next regenerate", async () => {
    const key = await given({ chat: { status: 500 } });
    const app = appFetch(ragEnv(key));
    const { chat, session } = bookChat(app.fetch);
    await chat.sendMessage({ text: "Will it work?" });
    await app.settled();
    expect(chat.status).toBe("error");
    expect(problemOf(chat.error)).toMatchObject({
      status: 502,
      code: "answer_failed",
      session_uuid: session(),
      detail: "the answer could not be generated; the question is kept, retry with the same client_message_id",
    });
    expect((await history(session()!)).messages.map((m) => m.sender)).toEqual(["user"]);

    await setScenario(upstream, key, { chat: { text: "It works now." } });
    await chat.regenerate();
    await app.settled();
    expect(chat.status).toBe("ready");
    expect(chat.messages.map((m) => [m.role, textOf(m)])).toEqual([
      ["user", "Will it work?"],
      ["assistant", "It works now."],
    ]);
    const answered = chat.messages[1]!;

    await chat.regenerate();
    await app.settled();
    expect(app.bodies.map((body) => body.trigger)).toEqual([
      "submit-message",
      "regenerate-message",
      "regenerate-message",
    ]);
    expect(chat.messages).toEqual([chat.messages[0], { ...answered, parts: answered.parts }]);
    expect((await history(session()!)).messages.map((m) => [m.seq, m.sender, m.message])).toEqual([
      [1, "user", "Will it work?"],
      [2, "bot", "It works now."],
    ]);
    expect(await prompts(key)).toHaveLength(1);
  });

  it("refuses an edited message (its id with another text) as idempotency_conflict, which useChat shows as the problem", async () => {
    const app = appFetch();
    const { chat, session } = bookChat(app.fetch);
    await chat.sendMessage({ text: "Original question" });
    const sent = chat.messages[0]!;
    await chat.sendMessage({ text: "Edited question", messageId: sent.id });
    await app.settled();
    expect(chat.status).toBe("error");
    expect(problemOf(chat.error)).toMatchObject({ status: 409, code: "idempotency_conflict" });
    expect((await history(session()!)).messages.map((m) => m.message)).toEqual([
      "Original question",
      expect.stringContaining("Original question"),
    ]);
  });
});

describe("failures and clients that leave", () => {
  it("ends with an error chunk holding the problem when the model stalls mid-stream, and keeps the text sent as incomplete", async () => {
    const key = await given({ chat: { chunks: ["One ", "two ", "three."], stallAfterChunks: 2 } });
    const app = appFetch(ragEnv(key, { LLM_TIMEOUT_MS: "500" }));
    const { chat, session } = bookChat(app.fetch);
    await chat.sendMessage({ text: "Stalled?" });
    await app.settled();
    expect(chat.status).toBe("error");
    const problem = problemOf(chat.error);
    expect(problem).toMatchObject({ status: 504, code: "answer_timeout", session_uuid: session() });
    expect(JSON.stringify(problem)).not.toContain(key);
    expect(JSON.stringify(problem)).not.toContain(upstream);
    const shown = chat.messages.at(-1)!;
    expect(shown.parts).toEqual([{ type: "text", text: "One two ", state: "done" }]);
    const [, stored] = (await history(session()!)).messages;
    expect(stored).toMatchObject({ sender: "bot", status: "incomplete", message: "One two " });
    // The restored history shows the same text and says it was cut short.
    const restored = (await uiHistory(app.fetch, session()!)).messages[1]!;
    expect(restored).toMatchObject({ id: shown.id, metadata: { status: "incomplete" } });
    expect(textOf(restored)).toBe("One two ");
  });

  it("finishes and stores the whole answer when the client stops reading mid-stream", async () => {
    const key = await given({ chat: { chunks: ["One ", "two ", "three ", "four."], chunkDelayMs: 100 } });
    const app = appFetch(ragEnv(key));
    const { chat, session } = bookChat(app.fetch);
    const sending = chat.sendMessage({ text: "I will leave early" });
    await until(() => textOf(chat.messages[1]) !== "", "the first words arrive");
    await chat.stop();
    await sending;
    expect(textOf(chat.messages[1])).not.toBe("One two three four.");
    await app.settled();
    const [, answer] = (await history(session()!)).messages;
    expect(answer).toMatchObject({ sender: "bot", status: "complete", message: "One two three four." });
  });

  it("answers 503 answer_unavailable before the stream when no model is usable, storing nothing", async () => {
    const app = appFetch(ragEnv("some-key", { LLM_MODEL: undefined }));
    const { chat } = bookChat(app.fetch);
    await chat.sendMessage({ text: "Anyone?" });
    expect(chat.status).toBe("error");
    expect(problemOf(chat.error)).toMatchObject({ status: 503, code: "answer_unavailable" });
    expect(chat.messages.map((m) => m.role)).toEqual(["user"]);
  });
});

describe("requests it refuses", () => {
  const post = (body: unknown) =>
    call("/api/ui/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  it.each([
    ["no message", { id: "x" }, "message"],
    ["an empty list", { messages: [] }, "messages"],
    ["an assistant message last", { messages: [{ id: "a", role: "assistant", parts: [] }] }, "messages.0.role"],
    [
      "a file",
      { message: { id: "f", role: "user", parts: [{ type: "file", url: "data:,x", mediaType: "text/plain" }] } },
      "message.parts.0.type",
    ],
    ["a blank question", { message: userMessage("   ") }, "message.parts"],
    ["no text at all", { message: { id: "e", role: "user", parts: [] } }, "message.parts"],
    ["an unknown trigger", { message: userMessage("hi"), trigger: "resume-stream" }, "trigger"],
    ["a message without an id", { message: { role: "user", parts: [{ type: "text", text: "hi" }] } }, "message.id"],
  ])("refuses %s with 400 validation_error naming the field", async (_, body, path) => {
    const problem = await expectProblem(await post(body), 400, "validation_error");
    expect(problem.errors?.map((error) => error.path)).toContain(path);
  });

  it("counts a question as POST /api/chat does: 8,000 characters at most", async () => {
    const problem = await expectProblem(
      await post({ message: userMessage("🤖".repeat(8001)) }),
      400,
      "validation_error",
    );
    expect(problem.errors).toEqual([{ path: "message.parts", message: "must be at most 8000 characters" }]);
  });
});

describe("GET /api/ui/chat/{session_uuid}/messages", () => {
  it("restores a conversation as the UI messages the stream built, and useChat continues it", async () => {
    const key = await given({});
    const app = appFetch(ragEnv(key));
    const live = bookChat(app.fetch);
    await live.chat.sendMessage({ text: "What is a ZMP?" });
    await live.chat.sendMessage({ text: "And then?" });
    await app.settled();
    const sessionUuid = live.session()!;

    const page = await uiHistory(app.fetch, sessionUuid);
    expect(page.session_uuid).toBe(sessionUuid);
    expect(page.next_cursor).toBeNull();
    const stored = (await history(sessionUuid)).messages;
    expect(page.messages.map((m) => m.id)).toEqual([
      stored[0]!.client_message_id,
      `answer-${stored[0]!.id}`,
      stored[2]!.client_message_id,
      `answer-${stored[2]!.id}`,
    ]);
    // What the stream built, as the history gives it back: the same answers, ids and metadata.
    const withoutState = (message: UiMessage) => ({
      ...message,
      parts: message.parts.map((part) => (part.type === "text" ? { type: "text", text: part.text } : part)),
    });
    for (const index of [1, 3]) {
      const { new_session: _, user_message: __, ...metadata } = live.chat.messages[index]!.metadata!;
      expect(page.messages[index]).toEqual({ ...withoutState(live.chat.messages[index]!), metadata });
    }
    expect(page.messages[0]).toEqual({
      id: stored[0]!.client_message_id,
      role: "user",
      metadata: {
        session_uuid: sessionUuid,
        id: stored[0]!.id,
        seq: 1,
        timestamp: stored[0]!.timestamp,
        status: "complete",
      },
      parts: [{ type: "text", text: "What is a ZMP?" }],
    });

    const restored = bookChat(app.fetch, { sessionUuid, messages: page.messages });
    await restored.chat.sendMessage({ text: "A third question" });
    await app.settled();
    expect(restored.chat.status).toBe("ready");
    expect(restored.chat.messages.map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
      "assistant",
    ]);
    expect(new Set(restored.chat.messages.map((m) => m.id)).size).toBe(6);
    expect(restored.chat.messages.at(-1)!.metadata).toMatchObject({ session_uuid: sessionUuid, seq: 6 });
    expect((await prompts(key))[2]!.map((m) => m.content)).toEqual([
      "What is a ZMP?",
      "Fake answer.",
      "And then?",
      "Fake answer.",
      "A third question",
    ]);
  });

  it("recognises a restored question on regenerate, by its id, and replays its answer", async () => {
    const key = await given({});
    const app = appFetch(ragEnv(key));
    const live = bookChat(app.fetch);
    await live.chat.sendMessage({ text: "Asked before the reload" });
    await app.settled();
    const sessionUuid = live.session()!;
    const restored = bookChat(app.fetch, { sessionUuid, messages: (await uiHistory(app.fetch, sessionUuid)).messages });
    await restored.chat.regenerate();
    await app.settled();
    expect(restored.chat.messages.map(textOf)).toEqual(["Asked before the reload", "Fake answer."]);
    expect((await history(sessionUuid)).messages).toHaveLength(2);
    expect(await prompts(key)).toHaveLength(1);
  });

  it("pages like the history: limit, order and cursor", async () => {
    const app = appFetch();
    const { chat, session } = bookChat(app.fetch);
    for (const text of ["one", "two", "three"]) await chat.sendMessage({ text });
    await app.settled();
    const sessionUuid = session()!;
    const first = await uiHistory(app.fetch, sessionUuid, "?limit=4");
    expect(first.messages.map((m) => m.metadata.seq)).toEqual([1, 2, 3, 4]);
    const second = await uiHistory(app.fetch, sessionUuid, `?limit=4&cursor=${first.next_cursor}`);
    expect(second.messages.map((m) => m.metadata.seq)).toEqual([5, 6]);
    expect(second.next_cursor).toBeNull();
    const newest = await uiHistory(app.fetch, sessionUuid, "?order=desc&limit=2");
    expect(newest.messages.map((m) => [m.role, m.metadata.seq])).toEqual([
      ["assistant", 6],
      ["user", 5],
    ]);
    expect(newest.next_cursor).toBe((await history(sessionUuid, "?order=desc&limit=2")).next_cursor);
    await expectProblem(
      await call(`/api/ui/chat/${sessionUuid}/messages?order=desc&cursor=${first.next_cursor}`),
      400,
      "validation_error",
    );
    await expectProblem(await call(`/api/ui/chat/${crypto.randomUUID()}/messages`), 404, "session_not_found");
    await expectProblem(await call("/api/ui/chat/not-a-uuid/messages"), 400, "validation_error");
  });

  it("gives a question asked through POST /api/chat without a key the id question-<id>", async () => {
    const response = await call("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: "No key" }),
    });
    const { session_uuid, user_message } = await response.json<{
      session_uuid: string;
      user_message: { id: number };
    }>();
    const page = await uiHistory(appFetch().fetch, session_uuid);
    expect(page.messages[0]!.id).toBe(`question-${user_message.id}`);
  });
});

describe("CORS", () => {
  it("grants an allowed origin exactly what DefaultChatTransport sends: POST with Content-Type", async () => {
    const preflight = await call("/api/ui/chat", {
      method: "OPTIONS",
      headers: {
        Origin: "https://book.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("https://book.example");
    expect(preflight.headers.get("Access-Control-Allow-Methods")?.split(",")).toContain("POST");
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase().split(",")).toContain("content-type");
    const app = appFetch();
    const response = await app.fetch(uiChatApi, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: "https://book.example" },
      body: JSON.stringify({ message: userMessage("cors?") }),
    });
    await response.text();
    await app.settled();
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://book.example");
  });
});

it("keys a turn by its UI message id: a UUID id is the client_message_id, another id gives its name-based UUID", async () => {
  const app = appFetch();
  const uuidId = crypto.randomUUID();
  // uuid.uuid5(UUID("4bd0a2c6-66b4-4c36-9a4e-4d36a5b1e0c2"), "2IbZ1janVtaU6nFq") in Python.
  for (const [id, key] of [
    [uuidId.toUpperCase(), uuidId],
    ["2IbZ1janVtaU6nFq", "1d4d6174-fd4d-599f-b891-3aaabbcbe5a5"],
  ] as const) {
    const { chat, session } = bookChat(app.fetch);
    await chat.sendMessage(userMessage("Which key?", id));
    await app.settled();
    const [question] = (await history(session()!)).messages;
    expect(question!.client_message_id).toBe(key);
  }
});
