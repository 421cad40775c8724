// The migrated schema itself: the constraints that keep the history consistent whatever the code does.
// Talks SQL to the real PostgreSQL through the Hyperdrive binding, bypassing the Worker's routes.
import { describe, expect, it } from "vitest";
import { openSql } from "./helpers/database";

async function newSession(sql: ReturnType<typeof openSql>): Promise<number> {
  const [row] = await sql<{ id: string }[]>`
    insert into chat_sessions (session_uuid) values (${crypto.randomUUID()}) returning id`;
  return Number(row!.id);
}

function insertMessage(sql: ReturnType<typeof openSql>, sessionId: number, fields: Record<string, unknown> = {}) {
  const row = { session_id: sessionId, seq: 1, sender: "user", message: "hello", timestamp: new Date(), ...fields };
  return sql`insert into chat_messages ${sql(row)}`;
}

describe("the migrated schema", () => {
  it("accepts only user and bot as sender", async () => {
    const sql = openSql();
    const sessionId = await newSession(sql);
    await expect(insertMessage(sql, sessionId, { sender: "robot" })).rejects.toMatchObject({
      code: "23514",
      constraint_name: "chat_messages_sender_check",
    });
    await insertMessage(sql, sessionId, { sender: "user", seq: 1 });
    await insertMessage(sql, sessionId, { sender: "bot", seq: 2, reply_to_id: await firstMessageId(sql, sessionId) });
  });

  it("accepts only complete and incomplete as status, defaulting to complete", async () => {
    const sql = openSql();
    const sessionId = await newSession(sql);
    await expect(insertMessage(sql, sessionId, { status: "partial" })).rejects.toMatchObject({
      code: "23514",
      constraint_name: "chat_messages_status_check",
    });
    await insertMessage(sql, sessionId);
    const [row] = await sql`select status, sources, metadata from chat_messages where session_id = ${sessionId}`;
    expect(row).toEqual({ status: "complete", sources: [], metadata: null });
  });

  it("never stores two messages with the same seq in one session, but does across sessions", async () => {
    const sql = openSql();
    const first = await newSession(sql);
    const second = await newSession(sql);
    await insertMessage(sql, first, { seq: 1 });
    await expect(insertMessage(sql, first, { seq: 1 })).rejects.toMatchObject({
      code: "23505",
      constraint_name: "chat_messages_session_seq_unique",
    });
    await insertMessage(sql, second, { seq: 1 });
  });

  it("keeps client_message_id unique per session, and allows many messages without one", async () => {
    const sql = openSql();
    const first = await newSession(sql);
    const second = await newSession(sql);
    const key = crypto.randomUUID();
    await insertMessage(sql, first, { seq: 1, client_message_id: key });
    await expect(insertMessage(sql, first, { seq: 2, client_message_id: key })).rejects.toMatchObject({
      code: "23505",
      constraint_name: "chat_messages_session_client_message_id_unique",
    });
    await insertMessage(sql, second, { seq: 1, client_message_id: key });
    await insertMessage(sql, first, { seq: 3 });
    await insertMessage(sql, first, { seq: 4 });
  });

  it("stores at most one answer per question", async () => {
    const sql = openSql();
    const sessionId = await newSession(sql);
    await insertMessage(sql, sessionId, { seq: 1 });
    const questionId = await firstMessageId(sql, sessionId);
    await insertMessage(sql, sessionId, { seq: 2, sender: "bot", reply_to_id: questionId });
    await expect(
      insertMessage(sql, sessionId, { seq: 3, sender: "bot", reply_to_id: questionId }),
    ).rejects.toMatchObject({
      code: "23505",
      constraint_name: "chat_messages_reply_to_id_unique",
    });
  });

  it("keeps feedback on answers only, whole (a rating with its time), and up or down", async () => {
    const sql = openSql();
    const sessionId = await newSession(sql);
    const now = new Date();
    await expect(
      insertMessage(sql, sessionId, { seq: 1, feedback_rating: "up", feedback_at: now }),
    ).rejects.toMatchObject({ code: "23514", constraint_name: "chat_messages_feedback_only_on_answers" });
    await insertMessage(sql, sessionId, { seq: 1 });
    const answer = { sender: "bot", reply_to_id: await firstMessageId(sql, sessionId) };
    await expect(
      insertMessage(sql, sessionId, { ...answer, seq: 2, feedback_rating: "meh", feedback_at: now }),
    ).rejects.toMatchObject({ code: "23514", constraint_name: "chat_messages_feedback_rating_check" });
    for (const partial of [{ feedback_rating: "down" }, { feedback_at: now }, { feedback_comment: "why?" }]) {
      await expect(insertMessage(sql, sessionId, { ...answer, seq: 2, ...partial })).rejects.toMatchObject({
        code: "23514",
        constraint_name: "chat_messages_feedback_whole",
      });
    }
    await insertMessage(sql, sessionId, {
      ...answer,
      seq: 2,
      feedback_rating: "down",
      feedback_comment: "why?",
      feedback_at: now,
    });
  });

  it("deletes a session's messages with the session", async () => {
    const sql = openSql();
    const sessionId = await newSession(sql);
    await insertMessage(sql, sessionId, { seq: 1 });
    await insertMessage(sql, sessionId, { seq: 2, sender: "bot", reply_to_id: await firstMessageId(sql, sessionId) });
    await sql`delete from chat_sessions where id = ${sessionId}`;
    const [row] = await sql<
      { count: number }[]
    >`select count(*)::int as count from chat_messages where session_id = ${sessionId}`;
    expect(row!.count).toBe(0);
  });
});

async function firstMessageId(sql: ReturnType<typeof openSql>, sessionId: number): Promise<number> {
  const [row] = await sql<{ id: string }[]>`select id from chat_messages where session_id = ${sessionId} and seq = 1`;
  return Number(row!.id);
}
