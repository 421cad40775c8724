// Reader feedback on answers (docs/api.md §3 and §6.1): rate an answer up or down with a comment,
// replace it, take it back; only answers of the named session. Calls the Worker's fetch handler.
import { describe, expect, it } from "vitest";
import { openSql } from "./helpers/database";
import { ask, call, expectProblem, history, type Message } from "./helpers/http";

function feedbackPath(sessionUuid: string, messageId: number | string) {
  return `/api/sessions/${sessionUuid}/messages/${messageId}/feedback`;
}

function putFeedback(
  sessionUuid: string,
  messageId: number | string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return call(feedbackPath(sessionUuid, messageId), {
    method: "PUT",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

function deleteFeedback(sessionUuid: string, messageId: number | string) {
  return call(feedbackPath(sessionUuid, messageId), { method: "DELETE" });
}

describe("feedback on an answer", () => {
  it("rates an answer: the answer comes back with its feedback, and the history shows it", async () => {
    const { session_uuid, bot_message } = await ask("What is a ZMP?");
    const before = Date.now();
    const response = await putFeedback(session_uuid, bot_message.id, { rating: "up", comment: "Clear, thanks" });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Session-Id")).toBe(session_uuid);
    const rated = await response.json<Message>();
    expect(rated).toEqual({
      ...bot_message,
      feedback: { rating: "up", comment: "Clear, thanks", updated_at: expect.any(String) },
    });
    expect(Date.parse(rated.feedback!.updated_at)).toBeGreaterThanOrEqual(before - 1000);
    const [question, answer] = (await history(session_uuid)).messages;
    expect(question!.feedback).toBeNull();
    expect(answer).toEqual(rated);
  });

  it("replaces the feedback when it is given again, and stores it on the message itself", async () => {
    const { session_uuid, bot_message } = await ask("And the capture point?");
    await putFeedback(session_uuid, bot_message.id, { rating: "up", comment: "good" });
    const again = await putFeedback(session_uuid, bot_message.id, { rating: "down" });
    expect(again.status).toBe(200);
    expect((await again.json<Message>()).feedback).toMatchObject({ rating: "down", comment: null });
    const sql = openSql();
    const rows = await sql`
      select feedback_rating, feedback_comment, feedback_at is not null as dated
      from chat_messages where id = ${bot_message.id}`;
    expect(rows).toEqual([{ feedback_rating: "down", feedback_comment: null, dated: true }]);
  });

  it("takes the feedback back with DELETE, which is 204 also when there is none", async () => {
    const { session_uuid, bot_message } = await ask("Take it back");
    await putFeedback(session_uuid, bot_message.id, { rating: "down", comment: "wrong" });
    const deleted = await deleteFeedback(session_uuid, bot_message.id);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    expect((await history(session_uuid)).messages[1]!.feedback).toBeNull();
    expect((await deleteFeedback(session_uuid, bot_message.id)).status).toBe(204);
  });

  it("keeps a comment as sent, up to 2,000 characters counted as code points; a blank one is no comment", async () => {
    const { session_uuid, bot_message } = await ask("Comment rules");
    const longest = "🤖".repeat(2000);
    const response = await putFeedback(session_uuid, bot_message.id, { rating: "up", comment: longest });
    expect((await response.json<Message>()).feedback!.comment).toBe(longest);
    const blank = await putFeedback(session_uuid, bot_message.id, { rating: "up", comment: " \n " });
    expect((await blank.json<Message>()).feedback!.comment).toBeNull();
    const none = await putFeedback(session_uuid, bot_message.id, { rating: "up", comment: null });
    expect((await none.json<Message>()).feedback!.comment).toBeNull();
  });

  it("answers 409 not_an_answer for a question, with either method", async () => {
    const { session_uuid, user_message } = await ask("Can I rate my own question?");
    await expectProblem(await putFeedback(session_uuid, user_message.id, { rating: "up" }), 409, "not_an_answer");
    await expectProblem(await deleteFeedback(session_uuid, user_message.id), 409, "not_an_answer");
  });

  it("answers 404 message_not_found for an id that is not a message of this session", async () => {
    const mine = await ask("mine");
    const theirs = await ask("theirs");
    for (const id of [theirs.bot_message.id, 999_999_999]) {
      const put = await putFeedback(mine.session_uuid, id, { rating: "down" });
      expect(put.headers.get("X-Session-Id")).toBeNull();
      await expectProblem(put, 404, "message_not_found");
      await expectProblem(await deleteFeedback(mine.session_uuid, id), 404, "message_not_found");
    }
    expect((await history(theirs.session_uuid)).messages[1]!.feedback).toBeNull();
  });

  it("answers 404 session_not_found for a session that does not exist", async () => {
    await expectProblem(await putFeedback(crypto.randomUUID(), 1, { rating: "up" }), 404, "session_not_found");
    await expectProblem(await deleteFeedback(crypto.randomUUID(), 1), 404, "session_not_found");
  });

  it.each([
    ["a missing rating", {}, "rating"],
    ["another rating", { rating: "meh" }, "rating"],
    ["a comment over 2,000 characters", { rating: "up", comment: "a".repeat(2001) }, "comment"],
    ["a comment with U+0000", { rating: "up", comment: "a\u0000b" }, "comment"],
    ["a comment with a lone surrogate", { rating: "up", comment: "a\ud800" }, "comment"],
    ["a comment that is not a string", { rating: "up", comment: 5 }, "comment"],
    ["a body that is not an object", ["up"], ""],
  ])("answers 400 validation_error for %s", async (_, body, path) => {
    const { session_uuid, bot_message } = await ask("Validation");
    const problem = await expectProblem(await putFeedback(session_uuid, bot_message.id, body), 400, "validation_error");
    expect(problem.errors?.map((error) => error.path)).toContain(path);
  });

  it("answers 400 validation_error for a message id that is not a positive integer", async () => {
    const { session_uuid } = await ask("ids");
    for (const id of ["0", "-1", "1.5", "abc", "01", "9".repeat(16)]) {
      const problem = await expectProblem(
        await putFeedback(session_uuid, id, { rating: "up" }),
        400,
        "validation_error",
      );
      expect(problem.errors?.map((error) => error.path)).toEqual(["message_id"]);
    }
  });

  it("takes only JSON, and refuses a conflicting X-Session-Id header", async () => {
    const { session_uuid, bot_message } = await ask("Formats");
    const form = await call(feedbackPath(session_uuid, bot_message.id), {
      method: "PUT",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "rating=up",
    });
    await expectProblem(form, 415, "unsupported_media_type");
    const conflicting = await putFeedback(
      session_uuid,
      bot_message.id,
      { rating: "up" },
      {
        "X-Session-Id": crypto.randomUUID(),
      },
    );
    await expectProblem(conflicting, 400, "session_conflict");
  });

  it("limits feedback writes per address: past 30 a minute, 429 rate_limited with Retry-After", async () => {
    const { session_uuid, bot_message } = await ask("Rate me often");
    const address = { "CF-Connecting-IP": `feedback-${crypto.randomUUID()}` };
    let status = 0;
    for (let i = 0; i < 70 && status !== 429; i++) {
      const response = await putFeedback(session_uuid, bot_message.id, { rating: i % 2 ? "up" : "down" }, address);
      status = response.status;
      if (status === 429) {
        await expectProblem(response, 429, "rate_limited");
        expect(response.headers.get("Retry-After")).toBe("60");
      } else {
        expect(status).toBe(200);
        await response.body?.cancel();
      }
    }
    expect(status).toBe(429);
  });

  it("lets the book's site give feedback from the browser: the preflight allows PUT", async () => {
    const { session_uuid, bot_message } = await ask("CORS");
    const preflight = await call(feedbackPath(session_uuid, bot_message.id), {
      method: "OPTIONS",
      headers: {
        Origin: "https://book.example",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("https://book.example");
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toContain("PUT");
  });
});
