// The session endpoints of docs/api.md §6: create, read, delete (with everything in it).
// Calls the Worker's fetch handler.
import { describe, expect, it } from "vitest";
import { openSql } from "./helpers/database";
import { ask, call, expectProblem, postChat } from "./helpers/http";

describe("session endpoints", () => {
  it("POST /api/sessions creates an empty session", async () => {
    const response = await call("/api/sessions", { method: "POST" });
    expect(response.status).toBe(201);
    const created = await response.json<{ session_uuid: string; created_at: string }>();
    expect(response.headers.get("X-Session-Id")).toBe(created.session_uuid);
    const read = await call(`/api/sessions/${created.session_uuid}`);
    expect(await read.json()).toEqual({ ...created, last_message_at: null, message_count: 0 });
    const turn = await ask("first question", { session_uuid: created.session_uuid });
    expect(turn.user_message.seq).toBe(1);
  });

  it("GET /api/sessions/{uuid} reports message_count and last_message_at", async () => {
    const first = await ask("one");
    const second = await ask("two", { session_uuid: first.session_uuid });
    const response = await call(`/api/sessions/${first.session_uuid.toUpperCase()}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Session-Id")).toBe(first.session_uuid);
    expect(await response.json()).toEqual({
      session_uuid: first.session_uuid,
      created_at: expect.stringMatching(/Z$/),
      last_message_at: second.bot_message.timestamp,
      message_count: 4,
    });
  });

  it("DELETE removes the session and all its messages; afterwards everything about it is 404", async () => {
    const { session_uuid, user_message } = await ask("forget me");
    const deleted = await call(`/api/sessions/${session_uuid}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    // No response names the dead session: a widget that keeps every X-Session-Id would keep it.
    const after = [
      deleted,
      await call(`/api/sessions/${session_uuid}`),
      await call(`/api/sessions/${session_uuid}/messages`),
      await call(`/api/sessions/${session_uuid}`, { method: "DELETE" }),
      await postChat({ question: "again", session_uuid }),
    ];
    for (const response of after) expect(response.headers.get("X-Session-Id")).toBeNull();
    for (const response of after.slice(1)) await expectProblem(response, 404, "session_not_found");
    const sql = openSql();
    const rows = await sql`select 1 from chat_messages where id = ${user_message.id}`;
    expect(rows).toHaveLength(0);
  });

  it("a session endpoint refuses an X-Session-Id header naming another session", async () => {
    const { session_uuid } = await ask("mine");
    const response = await call(`/api/sessions/${session_uuid}`, { headers: { "X-Session-Id": crypto.randomUUID() } });
    await expectProblem(response, 400, "session_conflict");
  });
});
