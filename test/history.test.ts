// GET /api/sessions/{uuid}/messages (docs/api.md §5): ordered, keyset-paged history.
// Calls the Worker's fetch handler; messages are written through POST /api/chat.
import { describe, expect, it } from "vitest";
import { ask, call, expectProblem, history, type Message, postChat } from "./helpers/http";

async function sessionWithTurns(turns: number): Promise<string> {
  const { session_uuid } = await ask("turn 0");
  for (let i = 1; i < turns; i++) await ask(`turn ${i}`, { session_uuid });
  return session_uuid;
}

async function readAll(sessionUuid: string, query: string): Promise<Message[]> {
  const seen: Message[] = [];
  let cursor: string | null = null;
  do {
    const page = await history(sessionUuid, `${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    seen.push(...page.messages);
    cursor = page.next_cursor;
  } while (cursor);
  return seen;
}

describe("GET /api/sessions/{session_uuid}/messages", () => {
  it("returns the messages in seq order, newest first with order=desc", async () => {
    const session = await sessionWithTurns(3);
    const ascending = await history(session);
    expect(ascending.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ascending.next_cursor).toBeNull();
    const descending = await history(session, "?order=desc");
    expect(descending.messages.map((m) => m.seq)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it("pages with limit and next_cursor in both orders without skipping or repeating", async () => {
    const session = await sessionWithTurns(4);
    const first = await history(session, "?limit=3");
    expect(first.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect((await readAll(session, "?limit=3")).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await readAll(session, "?limit=3&order=desc")).map((m) => m.seq)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    const exact = await history(session, "?limit=8");
    expect(exact.next_cursor).toBeNull();
  });

  it("pages never skip or repeat a message while messages are being appended", async () => {
    const session = await sessionWithTurns(2);
    const writes = Promise.all(
      Array.from({ length: 10 }, (_, i) => postChat({ question: `late ${i}`, session_uuid: session })),
    );
    const seen: Message[] = [];
    let cursor: string | null = null;
    do {
      const page = await history(session, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.messages);
      cursor = page.next_cursor;
    } while (cursor);
    await writes;
    expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    expect(seen.length).toBeGreaterThanOrEqual(4);
  });

  it("answers [] for a session without messages and 404 for an unknown one", async () => {
    const created = await call("/api/sessions", { method: "POST" });
    const { session_uuid } = await created.json<{ session_uuid: string }>();
    expect(await history(session_uuid)).toEqual({ session_uuid, messages: [], next_cursor: null });
    await expectProblem(await call(`/api/sessions/${crypto.randomUUID()}/messages`), 404, "session_not_found");
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["limit=", "limit"],
    ["limit=1&limit=2", "limit"],
    ["order=newest", "order"],
    ["cursor=not-a-cursor", "cursor"],
    ["cursor=", "cursor"],
  ])("answers 400 validation_error for %s", async (query, path) => {
    const session = await sessionWithTurns(1);
    const problem = await expectProblem(
      await call(`/api/sessions/${session}/messages?${query}`),
      400,
      "validation_error",
    );
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it("refuses a cursor issued for the other order", async () => {
    const session = await sessionWithTurns(2);
    const { next_cursor } = await history(session, "?limit=1&order=desc");
    const problem = await expectProblem(
      await call(`/api/sessions/${session}/messages?limit=1&cursor=${next_cursor}`),
      400,
      "validation_error",
    );
    expect(problem.errors).toEqual([{ path: "cursor", message: expect.stringContaining("order=desc") }]);
  });

  it("answers 400 validation_error, not 404, for a malformed session UUID", async () => {
    for (const bad of [
      "not-a-uuid",
      "{00000000-0000-0000-0000-000000000000}",
      "0000000000000000000000000000000g",
      "urn:uuid:00000000-0000-0000-0000-000000000000",
    ]) {
      await expectProblem(await call(`/api/sessions/${encodeURIComponent(bad)}/messages`), 400, "validation_error");
    }
  });
});
