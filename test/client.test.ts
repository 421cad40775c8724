// The typed client of src/client.ts (Hono's hc over AppType, and the stream reader), driven the
// way a front end would drive it: each call's type is checked at compile time (expectTypeOf) and
// its value at run time. Its fetch goes to the Worker's own fetch handler.
import { exports } from "cloudflare:workers";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type ChatResponse,
  type ChatStreamEvent,
  createChatClient,
  type HistoryPage,
  type Problem,
  readChatStream,
  type SessionSummary,
} from "../src/client";

const api = createChatClient("http://chat.test", {
  fetch: (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set("CF-Connecting-IP", `client-${crypto.randomUUID()}`);
    return exports.default.fetch(new Request(input, { ...init, headers }));
  },
});

describe("the typed client", () => {
  it("asks, continues a session, and reads the JSON answer with its type", async () => {
    const first = await api.api.chat.$post({ json: { question: "What is a ZMP?" } });
    expect(first.status).toBe(200);
    if (first.status !== 200) return;
    const turn = await first.json();
    expectTypeOf(turn).toEqualTypeOf<ChatResponse>();
    expect(turn.user_message.message).toBe("What is a ZMP?");

    const next = await api.api.chat.$post({ json: { question: "And a CoP?", session_uuid: turn.session_uuid } });
    if (next.status !== 200) throw new Error(`unexpected ${next.status}`);
    expect((await next.json()).bot_message.seq).toBe(4);
  });

  it("reads a streamed answer as typed events", async () => {
    const response = await api.api.chat.$post({ json: { question: "Stream it", stream: true } });
    const events: ChatStreamEvent[] = [];
    for await (const event of readChatStream(response)) {
      expectTypeOf(event).toEqualTypeOf<ChatStreamEvent>();
      events.push(event);
    }
    expect(events.map((e) => e.event)).toEqual(["start", "delta", "done"]);
    const done = events.at(-1)!;
    if (done.event !== "done") throw new Error("no done event");
    expectTypeOf(done.data.bot_message.seq).toEqualTypeOf<number>();
    const delta = events[1]!;
    if (delta.event === "delta") expect(done.data.bot_message.message).toBe(delta.data.text);
  });

  it("pages through the history with its type", async () => {
    const created = await api.api.sessions.$post();
    if (created.status !== 201) throw new Error(`unexpected ${created.status}`);
    const { session_uuid } = await created.json();
    expectTypeOf(session_uuid).toEqualTypeOf<string>();
    for (const question of ["one", "two", "three"]) {
      await api.api.chat.$post({ json: { question, session_uuid } });
    }
    const messages = api.api.sessions[":session_uuid"].messages;
    const first = await messages.$get({ param: { session_uuid }, query: { limit: "4" } });
    if (first.status !== 200) throw new Error(`unexpected ${first.status}`);
    const page = await first.json();
    expectTypeOf(page).toEqualTypeOf<HistoryPage>();
    expect(page.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const second = await messages.$get({ param: { session_uuid }, query: { limit: "4", cursor: page.next_cursor! } });
    if (second.status !== 200) throw new Error(`unexpected ${second.status}`);
    const rest = await second.json();
    expect(rest.messages.map((m) => m.seq)).toEqual([5, 6]);
    expect(rest.next_cursor).toBeNull();
  });

  it("reads and deletes a session", async () => {
    const created = await api.api.sessions.$post();
    if (created.status !== 201) throw new Error(`unexpected ${created.status}`);
    const { session_uuid } = await created.json();
    const read = await api.api.sessions[":session_uuid"].$get({ param: { session_uuid } });
    if (read.status !== 200) throw new Error(`unexpected ${read.status}`);
    const summary = await read.json();
    expectTypeOf(summary).toEqualTypeOf<SessionSummary>();
    expect(summary).toMatchObject({ session_uuid, message_count: 0, last_message_at: null });
    const deleted = await api.api.sessions[":session_uuid"].$delete({ param: { session_uuid } });
    expect(deleted.status).toBe(204);
  });

  it("gives a problem response its type", async () => {
    const response = await api.api.sessions[":session_uuid"].$get({ param: { session_uuid: crypto.randomUUID() } });
    expect(response.status).toBe(404);
    if (response.status !== 404) return;
    const problem = await response.json();
    expectTypeOf(problem).toEqualTypeOf<Problem>();
    expect(problem.code).toBe("session_not_found");
    expect(response.headers.get("X-Session-Id")).toBeNull();
  });
});
