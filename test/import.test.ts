// POST /api/sessions/import (docs/api.md §15): a browser transcript becomes a session in one call,
// idempotently, whole or not at all. Calls the Worker's fetch handler; reads the rows with SQL.
import { describe, expect, it } from "vitest";
import type { SessionSummary as Session } from "../src/client";
import { readAdmin } from "./helpers/admin";
import { openSql } from "./helpers/database";
import { call, expectProblem, history, postChat } from "./helpers/http";

/** A conversation as the book's front end keeps it in localStorage today. */
const transcript = [
  { sender: "user", message: "What is a ZMP?", timestamp: "2026-10-01T09:00:00.000Z" },
  {
    sender: "bot",
    message: "The **zero moment point** is where the ground reaction force acts.",
    timestamp: "2026-10-01T09:00:02.500Z",
    sources: [
      {
        title: "Chapter 4: Balance",
        url: "https://book.example/ch4#zmp",
        snippet: "The ZMP is the point on the ground…",
        score: 0.82,
      },
    ],
  },
  { sender: "user", message: "And the capture point? 🤖", timestamp: "2026-10-01T11:01:10+02:00" },
  { sender: "bot", message: "Where to step to stop.", timestamp: "2026-10-01T09:01:11.250Z" },
];

function importBody(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call("/api/sessions/import", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function imported(body: unknown): Promise<Session> {
  const response = await importBody(body);
  expect(response.status, await response.clone().text()).toBe(201);
  const session = await response.json<Session>();
  expect(response.headers.get("X-Session-Id")).toBe(session.session_uuid);
  return session;
}

async function sessionsOfImport(importId: string) {
  return openSql()<{ session_uuid: string; message_count: number; messages: number }[]>`
    select session_uuid, message_count, (select count(*)::int from chat_messages where session_id = chat_sessions.id) as messages
    from chat_sessions where import_id = ${importId}`;
}

describe("POST /api/sessions/import", () => {
  it("turns a localStorage transcript into a session: 201, its summary, seq 1..n, timestamps and sources kept", async () => {
    const import_id = crypto.randomUUID();
    const session = await imported({ import_id, messages: transcript });
    expect(session).toEqual({
      session_uuid: expect.any(String),
      created_at: expect.any(String),
      last_message_at: expect.any(String),
      message_count: 4,
    });
    const { messages } = await history(session.session_uuid);
    expect(messages.map((m) => [m.seq, m.sender, m.message, m.timestamp, m.status, m.sources])).toEqual([
      [1, "user", "What is a ZMP?", "2026-10-01T09:00:00.000Z", "complete", []],
      [2, "bot", transcript[1]!.message, "2026-10-01T09:00:02.500Z", "complete", transcript[1]!.sources],
      [3, "user", "And the capture point? 🤖", "2026-10-01T09:01:10.000Z", "complete", []],
      [4, "bot", "Where to step to stop.", "2026-10-01T09:01:11.250Z", "complete", []],
    ]);
    expect(messages.every((m) => m.client_message_id === null)).toBe(true);
    // The import is the session's last activity: its retention period starts now.
    expect(Date.parse(session.last_message_at!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("marks every imported message with metadata.imported and the import_id, each answer replying to its question", async () => {
    const import_id = crypto.randomUUID();
    const session = await imported({ import_id, messages: transcript });
    const rows = await openSql()<{ seq: number; metadata: unknown; reply_seq: number | null }[]>`
      select m.seq, m.metadata, q.seq as reply_seq
      from chat_messages m join chat_sessions s on s.id = m.session_id left join chat_messages q on q.id = m.reply_to_id
      where s.session_uuid = ${session.session_uuid} order by m.seq`;
    expect(rows).toEqual(
      [1, 2, 3, 4].map((seq) => ({
        seq,
        metadata: { imported: true, import_id },
        reply_seq: seq % 2 === 0 ? seq - 1 : null,
      })),
    );
  });

  it("gives an answer the nearest question before it that has none yet, and refuses an answer to no question", async () => {
    const messages = [
      { sender: "user", message: "first, never answered" },
      { sender: "user", message: "second" },
      { sender: "user", message: "third" },
      { sender: "bot", message: "answers third" },
      { sender: "bot", message: "answers second" },
      { sender: "user", message: "fourth" },
      { sender: "bot", message: "answers fourth" },
    ];
    const session = await imported({ import_id: crypto.randomUUID(), messages });
    const rows = await openSql()<{ message: string; question: string | null }[]>`
      select m.message, q.message as question
      from chat_messages m join chat_sessions s on s.id = m.session_id join chat_messages q on q.id = m.reply_to_id
      where s.session_uuid = ${session.session_uuid} order by m.seq`;
    expect(rows.map((r) => `${r.message} ← ${r.question}`)).toEqual([
      "answers third ← third",
      "answers second ← second",
      "answers fourth ← fourth",
    ]);

    for (const [bad, index] of [
      [[{ sender: "bot", message: "Hello! Ask me about the book." }, ...messages], 0],
      [
        [
          { sender: "user", message: "q" },
          { sender: "bot", message: "a" },
          { sender: "bot", message: "b" },
        ],
        2,
      ],
    ] as const) {
      const import_id = crypto.randomUUID();
      const problem = await expectProblem(await importBody({ import_id, messages: bad }), 400, "validation_error");
      expect(problem.errors).toEqual([
        { path: `messages.${index}.sender`, message: expect.stringMatching(/answers no question/) },
      ]);
      expect(await sessionsOfImport(import_id)).toEqual([]);
    }
  });

  it("fills a missing timestamp from the one before it (at the start, the first one given); none at all is the import's time", async () => {
    const session = await imported({
      import_id: crypto.randomUUID(),
      messages: [
        { sender: "user", message: "a" },
        { sender: "bot", message: "b", timestamp: "2026-09-01T10:00:00.000Z" },
        { sender: "user", message: "c", timestamp: null },
        { sender: "bot", message: "d", timestamp: "2026-09-01T10:05:00.000Z" },
      ],
    });
    expect((await history(session.session_uuid)).messages.map((m) => m.timestamp)).toEqual([
      "2026-09-01T10:00:00.000Z",
      "2026-09-01T10:00:00.000Z",
      "2026-09-01T10:00:00.000Z",
      "2026-09-01T10:05:00.000Z",
    ]);

    const before = Date.now();
    const undated = await imported({
      import_id: crypto.randomUUID(),
      messages: [{ sender: "user", message: "when?" }],
    });
    const [message] = (await history(undated.session_uuid)).messages;
    expect(message!.timestamp).toBe(undated.last_message_at);
    expect(Date.parse(message!.timestamp)).toBeGreaterThanOrEqual(before - 5_000);
  });

  it("keeps an answer's feedback as an export writes it: rating, comment, and when it was given", async () => {
    const messages = transcript.map((m, i) =>
      i === 1
        ? { ...m, feedback: { rating: "up", comment: "Clear.", updated_at: "2026-10-01T11:05:00.5+02:00" } }
        : i === 3
          ? { ...m, feedback: { rating: "down", comment: " \n " } }
          : { ...m, feedback: null },
    );
    const session = await imported({ import_id: crypto.randomUUID(), messages });
    expect((await history(session.session_uuid)).messages.map((m) => m.feedback)).toEqual([
      null,
      { rating: "up", comment: "Clear.", updated_at: "2026-10-01T09:05:00.500Z" },
      null,
      // A blank comment is none, as PUT feedback stores it; without a time, the import's.
      { rating: "down", comment: null, updated_at: session.created_at },
    ]);
  });

  it("leaves the ratings an import brought out of the admin statistics, as its messages; one given here afterwards counts", async () => {
    // An hour of 2001 that nothing else in the tests uses.
    const hour = Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 8000) * 3_600_000;
    const at = (minutes: number) => new Date(hour + minutes * 60_000).toISOString();
    const messages = [
      { sender: "user", message: "Old question", timestamp: at(1) },
      { sender: "bot", message: "Old answer", timestamp: at(2), feedback: { rating: "down", updated_at: at(3) } },
    ];
    const session = await imported({ import_id: crypto.randomUUID(), messages });
    const ratings = async (from: string, to: string) =>
      (await readAdmin<{ totals: { ratings: unknown } }>(`/api/admin/stats?from=${from}&to=${to}&bucket=hour`)).totals
        .ratings;
    expect(await ratings(at(0), at(60))).toEqual({ up: 0, down: 0 });

    const answer = (await history(session.session_uuid)).messages[1]!;
    const before = new Date(Date.now() - 1000).toISOString();
    const rated = await call(`/api/sessions/${session.session_uuid}/messages/${answer.id}/feedback`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ rating: "up" }),
    });
    expect(rated.status).toBe(200);
    // Other tests may rate answers meanwhile: at least this one.
    const after = new Date(Date.now() + 1000).toISOString();
    expect(await ratings(before, after)).toMatchObject({ up: expect.toSatisfy((up: number) => up >= 1) });
  });

  it("continues as any session: a new question gets seq n+1 and a later timestamp", async () => {
    const session = await imported({ import_id: crypto.randomUUID(), messages: transcript });
    const response = await postChat({ question: "One more", session_uuid: session.session_uuid });
    expect(response.status).toBe(200);
    const { messages } = await history(session.session_uuid);
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...messages.map((m) => m.timestamp)].sort()).toEqual(messages.map((m) => m.timestamp));
  });

  describe("idempotency by import_id", () => {
    it("a retry with the same import_id gets the same session, and nothing is stored twice", async () => {
      const import_id = crypto.randomUUID();
      const first = await imported({ import_id, messages: transcript });
      const retry = await imported({ import_id: import_id.toUpperCase(), messages: transcript });
      expect(retry).toEqual(first);
      expect(await sessionsOfImport(import_id)).toEqual([
        { session_uuid: first.session_uuid, message_count: 4, messages: 4 },
      ]);
    });

    it("concurrent retries with the same import_id make one session, and every one of them gets it", async () => {
      const import_id = crypto.randomUUID();
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => importBody({ import_id, messages: transcript })),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
      const sessions = await Promise.all(responses.map((r) => r.json<Session>()));
      for (const session of sessions) expect(session).toEqual(sessions[0]);
      expect(await sessionsOfImport(import_id)).toEqual([
        { session_uuid: sessions[0]!.session_uuid, message_count: 4, messages: 4 },
      ]);
    });

    it("a retry that spells the same transcript differently (key order, extra fields, time zone) is the same transcript", async () => {
      const import_id = crypto.randomUUID();
      const first = await imported({ import_id, messages: transcript });
      const respelled = transcript.map((message) => ({
        id: "local-7",
        timestamp: new Date(message.timestamp).toISOString(),
        ...Object.fromEntries(
          Object.entries(message)
            .reverse()
            .filter(([key]) => key !== "timestamp"),
        ),
      }));
      expect(await imported({ messages: respelled, import_id, client: "book-widget 1.2" })).toEqual(first);
    });

    it("the same import_id with a different transcript is 409 idempotency_conflict, and nothing changes", async () => {
      const import_id = crypto.randomUUID();
      const first = await imported({ import_id, messages: transcript });
      const changed = transcript.map((m, i) => (i === 3 ? { ...m, message: "Where to step." } : m));
      await expectProblem(await importBody({ import_id, messages: changed }), 409, "idempotency_conflict");
      await expectProblem(
        await importBody({ import_id, messages: transcript.slice(0, 2) }),
        409,
        "idempotency_conflict",
      );
      expect((await history(first.session_uuid)).messages.map((m) => m.message)).toEqual(
        transcript.map((m) => m.message),
      );
    });

    it("feedback is part of the transcript: other feedback under the same import_id is 409, none and null are the same", async () => {
      const import_id = crypto.randomUUID();
      const first = await imported({ import_id, messages: transcript.map((m) => ({ ...m, feedback: null })) });
      expect(await imported({ import_id, messages: transcript })).toEqual(first);
      const rated = transcript.map((m, i) => (i === 1 ? { ...m, feedback: { rating: "up" } } : m));
      await expectProblem(await importBody({ import_id, messages: rated }), 409, "idempotency_conflict");
      expect((await history(first.session_uuid)).messages[1]!.feedback).toBeNull();
    });

    it("a transcript without feedback keeps the identity it had before imports took feedback, so its retry is known", async () => {
      const import_id = crypto.randomUUID();
      await imported({ import_id, messages: transcript });
      // The transcript's hash as it was computed before: what is stored of each message, in order.
      const canonical = JSON.stringify(
        transcript.map((m) => [
          m.sender,
          m.message,
          new Date(m.timestamp).toISOString(),
          "complete",
          (m.sources ?? []).map((s) => [s.title, s.url, s.snippet, s.score]),
        ]),
      );
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
      const hash = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
      const [row] = await openSql()<{ import_hash: string }[]>`
        select import_hash from chat_sessions where import_id = ${import_id}`;
      expect(row!.import_hash).toBe(hash);
    });

    it("an import_id used again after its session was deleted makes a new session", async () => {
      const import_id = crypto.randomUUID();
      const first = await imported({ import_id, messages: transcript });
      expect((await call(`/api/sessions/${first.session_uuid}`, { method: "DELETE" })).status).toBe(204);
      const second = await imported({ import_id, messages: transcript });
      expect(second.session_uuid).not.toBe(first.session_uuid);
    });
  });

  describe("refuses what it cannot store as sent: 400 naming the message's index, and nothing is stored", () => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ["an empty message", { message: "" }, "message", /must not be empty/],
      ["only whitespace", { message: " \n\t" }, "message", /non-whitespace/],
      ["U+0000", { message: "a\u0000b" }, "message", /U\+0000/],
      ["a lone surrogate", { message: "a\uD800b" }, "message", /lone surrogates/],
      ["a question over 8,000 characters", { message: "🤖".repeat(8001) }, "message", /at most 8000/],
      ["an unknown sender", { sender: "assistant" }, "sender", /"user" or "bot"/],
      ["a timestamp without a time zone", { timestamp: "2026-10-01T09:00:00" }, "timestamp", /RFC 3339/],
      ["a day that does not exist", { timestamp: "2026-02-30T09:00:00Z" }, "timestamp", /RFC 3339/],
      ["a timestamp as a number", { timestamp: 1759309200000 }, "timestamp", /RFC 3339/],
      ["a timestamp in the future", { timestamp: "2999-01-01T00:00:00Z" }, "timestamp", /future/],
      ["a timestamp before 2000", { timestamp: "1970-01-21T06:48:29Z" }, "timestamp", /2000/],
      [
        "a timestamp going backwards",
        { timestamp: "2026-10-01T08:59:59.999Z" },
        "timestamp",
        /earlier than .* message 1/,
      ],
      ["sources on a question", { sources: [{ title: "x" }] }, "sources", /only an answer/],
      ["an incomplete question", { status: "incomplete" }, "status", /only an answer/],
      ["feedback on a question", { feedback: { rating: "up" } }, "feedback", /only an answer/],
    ];
    for (const [what, change, field, message] of cases) {
      it(`${what}`, async () => {
        const import_id = crypto.randomUUID();
        // Message 2 is a question; the one before it is dated 2026-10-01T09:00:02.500Z.
        const messages = transcript.map((m, i) => (i === 2 ? { ...m, ...change } : m));
        // JSON.stringify writes a lone surrogate as the escape \ud800, which JSON.parse turns back into it.
        const problem = await expectProblem(await importBody({ import_id, messages }), 400, "validation_error");
        expect(problem.errors).toEqual([{ path: `messages.2.${field}`, message: expect.stringMatching(message) }]);
        expect(problem.detail).toContain(`messages.2.${field}`);
        expect(await sessionsOfImport(import_id)).toEqual([]);
      });
    }

    it("a source whose url is not http(s), which an export would turn into a link", async () => {
      const messages = [transcript[0], { ...transcript[1], sources: [{ title: "x", url: "javascript:alert(1)" }] }];
      const problem = await expectProblem(
        await importBody({ import_id: crypto.randomUUID(), messages }),
        400,
        "validation_error",
      );
      expect(problem.errors).toEqual([{ path: "messages.1.sources.0.url", message: "must be an http(s) URL" }]);
    });

    it("feedback that PUT feedback would refuse, or dated before its answer or in the future", async () => {
      const cases: [unknown, string, RegExp][] = [
        ["up", "feedback", /object/],
        [{ rating: "meh" }, "feedback.rating", /"up" or "down"/],
        [{ comment: "no rating" }, "feedback.rating", /"up" or "down"/],
        [{ rating: "up", comment: "a\u0000b" }, "feedback.comment", /U\+0000/],
        [{ rating: "up", comment: "a\uD800b" }, "feedback.comment", /lone surrogates/],
        [{ rating: "up", comment: "🤖".repeat(2001) }, "feedback.comment", /at most 2000/],
        [{ rating: "up", updated_at: "2026-10-01T09:00:02.499Z" }, "feedback.updated_at", /earlier than .* message 1/],
        [{ rating: "up", updated_at: "2999-01-01T00:00:00Z" }, "feedback.updated_at", /future/],
        [{ rating: "up", updated_at: "yesterday" }, "feedback.updated_at", /RFC 3339/],
      ];
      for (const [feedback, field, message] of cases) {
        const import_id = crypto.randomUUID();
        const messages = transcript.map((m, i) => (i === 1 ? { ...m, feedback } : m));
        const problem = await expectProblem(await importBody({ import_id, messages }), 400, "validation_error");
        expect(problem.errors, JSON.stringify(feedback)).toEqual([
          { path: `messages.1.${field}`, message: expect.stringMatching(message) },
        ]);
        expect(await sessionsOfImport(import_id)).toEqual([]);
      }
    });

    it("no messages, more than 1,000 messages, or no import_id", async () => {
      const pair = transcript.slice(0, 2).map(({ timestamp: _, ...m }) => m);
      for (const [body, path] of [
        [{ import_id: crypto.randomUUID(), messages: [] }, "messages"],
        [{ import_id: crypto.randomUUID(), messages: Array.from({ length: 501 }, () => pair).flat() }, "messages"],
        [{ messages: transcript }, "import_id"],
        [{ import_id: "local-1", messages: transcript }, "import_id"],
        [transcript, ""],
      ] as const) {
        const problem = await expectProblem(await importBody(body), 400, "validation_error");
        expect(problem.errors?.[0]?.path).toBe(path);
      }
    });
  });

  describe("limits", () => {
    it("takes a body of up to 1 MiB, and 1,000 messages; other routes keep 64 KiB", async () => {
      // 1,000 messages of 1,000 characters: about 1 MB with the JSON around them.
      const messages = Array.from({ length: 500 }, (_, i) => [
        { sender: "user", message: `${i} ${"q".repeat(996)}` },
        { sender: "bot", message: `${i} ${"a".repeat(996)}` },
      ]).flat();
      const body = JSON.stringify({ import_id: crypto.randomUUID(), messages });
      expect(body.length).toBeGreaterThan(1_000_000);
      expect(body.length).toBeLessThanOrEqual(1024 * 1024);
      const session = await imported(JSON.parse(body));
      expect(session.message_count).toBe(1000);
      // About 1.5 MB of messages: a page stops before 1 MiB (docs/api.md §5), the next one ends it.
      const first = await history(session.session_uuid, "?limit=1000");
      expect(first.messages.length).toBeLessThan(1000);
      const rest = await history(session.session_uuid, `?limit=1000&cursor=${first.next_cursor}`);
      expect([...first.messages, ...rest.messages].map((m) => m.seq)).toEqual(
        Array.from({ length: 1000 }, (_, i) => i + 1),
      );
      expect(rest.next_cursor).toBeNull();

      await expectProblem(
        await call("/api/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body }),
        413,
        "payload_too_large",
      );
    });

    it("refuses a body over 1 MiB with 413 payload_too_large before reading it, declared or not", async () => {
      const import_id = crypto.randomUUID();
      const body = JSON.stringify({ import_id, messages: transcript, padding: "x".repeat(1024 * 1024) });
      const problem = await expectProblem(await importBody(body), 413, "payload_too_large");
      expect(problem.detail).toContain("1048576 bytes");
      const streamed = new Blob([body]).stream();
      const unsized = await call("/api/sessions/import", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: streamed,
        duplex: "half",
      } as RequestInit);
      await expectProblem(unsized, 413, "payload_too_large");
      expect(await sessionsOfImport(import_id)).toEqual([]);
    });
  });
});
