// POST /api/chat (docs/api.md §2 and §4): sessions issued and reused, turns stored in order, retries
// answered once. Calls the Worker's fetch handler; the answers come from the echo responder.
import { describe, expect, it } from "vitest";
import { ask, call, expectProblem, history, postChat } from "./helpers/http";

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const rfc3339Ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("POST /api/chat", () => {
  it("issues a new session for a first question and stores the question and the answer", async () => {
    const response = await postChat({ question: "What is a humanoid's ZMP?" });
    expect(response.status).toBe(200);
    const reply = await response.json<Record<string, any>>();
    expect(reply.session_uuid).toMatch(uuidV4);
    expect(response.headers.get("X-Session-Id")).toBe(reply.session_uuid);
    expect(reply.answer).toContain("echo");
    expect(reply.answer).toBe(reply.bot_message.message);
    expect(reply.sources).toEqual(reply.bot_message.sources);
    expect(reply.user_message).toEqual({
      id: expect.any(Number),
      seq: 1,
      sender: "user",
      message: "What is a humanoid's ZMP?",
      timestamp: expect.stringMatching(rfc3339Ms),
      status: "complete",
      client_message_id: null,
      sources: [],
      feedback: null,
    });
    expect(reply.bot_message).toMatchObject({
      seq: 2,
      sender: "bot",
      status: "complete",
      client_message_id: null,
      feedback: null,
    });
    const stored = await history(reply.session_uuid);
    expect(stored.messages).toEqual([reply.user_message, reply.bot_message]);
  });

  it("continues a session named in the body or in the X-Session-Id header, in any letter case", async () => {
    const first = await ask("first");
    const second = await ask("second", { session_uuid: first.session_uuid.toUpperCase() });
    const viaHeader = await postChat({ question: "third" }, { "X-Session-Id": first.session_uuid });
    expect(viaHeader.status).toBe(200);
    expect(second.session_uuid).toBe(first.session_uuid);
    const stored = await history(first.session_uuid);
    expect(stored.messages.map((m) => [m.seq, m.sender, m.message.startsWith("[echo") ? "answer" : m.message])).toEqual(
      [
        [1, "user", "first"],
        [2, "bot", "answer"],
        [3, "user", "second"],
        [4, "bot", "answer"],
        [5, "user", "third"],
        [6, "bot", "answer"],
      ],
    );
  });

  it("answers 400 session_conflict when body and header name different sessions, storing nothing", async () => {
    const first = await ask("one");
    const other = await ask("two");
    const response = await postChat(
      { question: "which?", session_uuid: first.session_uuid },
      { "X-Session-Id": other.session_uuid },
    );
    await expectProblem(response, 400, "session_conflict");
    expect((await history(first.session_uuid)).messages).toHaveLength(2);
    expect((await history(other.session_uuid)).messages).toHaveLength(2);
  });

  it("answers 404 session_not_found for a UUID the server never issued", async () => {
    const unknown = crypto.randomUUID();
    const response = await postChat({ question: "hello?", session_uuid: unknown });
    await expectProblem(response, 404, "session_not_found");
    await expectProblem(await call(`/api/sessions/${unknown}`), 404, "session_not_found");
  });

  it("gives 20 concurrent turns on one session 40 distinct, gap-free seq values", async () => {
    const { session_uuid } = await ask("start");
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => postChat({ question: `concurrent ${i}`, session_uuid })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const stored = await history(session_uuid, "?limit=1000");
    expect(stored.messages.map((m) => m.seq)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    for (let i = 0; i < 20; i++) {
      expect(stored.messages.filter((m) => m.message === `concurrent ${i}`)).toHaveLength(1);
    }
    const timestamps = stored.messages.map((m) => m.timestamp);
    expect([...timestamps].sort()).toEqual(timestamps);
  });

  it("stores unusual text exactly as sent and returns it unchanged", async () => {
    const samples = [
      "👩🏽‍🔬🤖🦾 family: 👨‍👩‍👧‍👦 flags: 🇯🇵🏳️‍🌈",
      "مرحبا، ما هو الروبوت البشري؟ שלום עולם",
      "e\u0301 n\u0303 a\u030a\u0323 Z̤͔ͧ̑̓",
      `'; DROP TABLE chat_messages; -- "quoted" \\backslash\\ $1 %s {{x}}`,
      "  leading and trailing whitespace\n\ttabs and newlines\r\n  ",
      `${"x".repeat(7_999)}é`,
      "🤖".repeat(8_000),
    ];
    for (const question of samples) {
      const reply = await ask(question);
      expect(reply.user_message.message).toBe(question);
      const [stored] = (await history(reply.session_uuid)).messages;
      expect(stored!.message).toBe(question);
    }
  });

  describe("with a client_message_id", () => {
    it("a retried turn with the same client_message_id stores the question once and returns the stored answer", async () => {
      const client_message_id = crypto.randomUUID();
      const { session_uuid, ...first } = await ask("first", {});
      const original = await ask("Why do bipeds fall?", { session_uuid, client_message_id });
      const retry = await ask("Why do bipeds fall?", {
        session_uuid,
        client_message_id: client_message_id.toUpperCase(),
      });
      expect(retry).toEqual(original);
      expect(original.user_message.client_message_id).toBe(client_message_id);
      const stored = await history(session_uuid);
      expect(stored.messages).toHaveLength(4);
      expect(stored.messages[0]).toEqual(first.user_message);
    });

    it("answers 409 idempotency_conflict when the same key comes with a different question", async () => {
      const client_message_id = crypto.randomUUID();
      const { session_uuid } = await ask("What is a servo?", { client_message_id });
      const response = await postChat({ question: "What is a stepper?", session_uuid, client_message_id });
      await expectProblem(response, 409, "idempotency_conflict");
      expect((await history(session_uuid)).messages).toHaveLength(2);
    });

    it("stores concurrent duplicates of one turn once, and every duplicate gets the same answer", async () => {
      const { session_uuid } = await ask("start");
      const client_message_id = crypto.randomUUID();
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => postChat({ question: "same question", session_uuid, client_message_id })),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
      const replies = await Promise.all(responses.map((r) => r.json<Record<string, any>>()));
      for (const reply of replies) expect(reply).toEqual(replies[0]);
      const stored = await history(session_uuid);
      expect(stored.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    });

    it("uses the same key independently in different sessions", async () => {
      const client_message_id = crypto.randomUUID();
      const a = await ask("same", { client_message_id });
      const b = await ask("same", { client_message_id });
      expect(a.session_uuid).not.toBe(b.session_uuid);
      expect(b.user_message.client_message_id).toBe(client_message_id);
    });
  });
});

describe("JSON or events, by Accept", () => {
  it.each([
    ["no Accept", undefined, "application/json"],
    ["*/*", "*/*", "application/json"],
    ["text/event-stream", "text/event-stream", "text/event-stream"],
    ["JSON preferred by q", "application/json, text/event-stream;q=0.1", "application/json"],
    ["events preferred by q", "application/json;q=0.5, text/event-stream", "text/event-stream"],
    ["events refused with q=0", "text/event-stream;q=0", "application/json"],
    ["equal q, events first", "text/event-stream, application/json", "text/event-stream"],
    ["equal q, JSON first", "application/json, text/event-stream", "application/json"],
    ["neither named", "text/html", "application/json"],
  ])("answers %s with %s", async (_, accept, expected) => {
    const response = await postChat({ question: "Which form?" }, accept === undefined ? {} : { Accept: accept });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain(expected);
    await response.arrayBuffer();
  });

  it("lets the body's stream flag decide over Accept", async () => {
    const response = await postChat({ question: "Which form?", stream: false }, { Accept: "text/event-stream" });
    expect(response.headers.get("Content-Type")).toContain("application/json");
    await response.arrayBuffer();
  });
});
