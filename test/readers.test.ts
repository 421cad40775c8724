// Readers (docs/api.md §17): a session started with a reader's token is theirs, every route that
// touches it needs that token, and the reader lists, claims, renames, exports and erases their
// conversations. Tokens come from a real Better Auth (test/fakes/issuer.ts) through its JWKS.
// Calls the Worker's fetch handler.
import { describe, expect, inject, it } from "vitest";
import { defaultTitle } from "../src/schemas/readers";
import { openSql } from "./helpers/database";
import { ask, call, expectProblem } from "./helpers/http";

const readers = inject("readers");

function as(reader: "a" | "b" | null, headers: Record<string, string> = {}): Record<string, string> {
  return reader ? { ...headers, Authorization: `Bearer ${readers[reader].token}` } : headers;
}

const json = { "Content-Type": "application/json" };

/** A turn asked with the reader's token; returns the session and the answer's id. */
async function askAs(reader: "a" | "b" | null, question: string, session_uuid?: string) {
  const response = await call("/api/chat", {
    method: "POST",
    headers: as(reader, json),
    body: JSON.stringify({ question, ...(session_uuid ? { session_uuid } : {}) }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  const reply = await response.json<{ session_uuid: string; bot_message: { id: number } }>();
  return { sessionUuid: reply.session_uuid, answerId: reply.bot_message.id };
}

async function messageCount(sessionUuid: string): Promise<number> {
  const [row] = await openSql()<{ message_count: number }[]>`
    select message_count from chat_sessions where session_uuid = ${sessionUuid}`;
  return row?.message_count ?? -1;
}

async function mySessions(reader: "a" | "b", query = "") {
  const response = await call(`/api/me/sessions${query}`, { headers: as(reader) });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<{
    sessions: { session_uuid: string; title: string; title_is_custom: boolean; message_count: number }[];
    next_cursor: string | null;
  }>();
}

describe("a session started with a reader's token", () => {
  it("is the reader's: 404 to anyone else, and nothing of it changes, on every route", async () => {
    const { sessionUuid, answerId } = await askAs("a", "What keeps a biped upright?");
    const before = await messageCount(sessionUuid);
    const base = `/api/sessions/${sessionUuid}`;
    const feedback = `${base}/messages/${answerId}/feedback`;
    const routes: [string, string, string | undefined][] = [
      ["GET", base, undefined],
      ["GET", `${base}/messages`, undefined],
      ["GET", `${base}/export`, undefined],
      ["GET", `/api/ui/chat/${sessionUuid}/messages`, undefined],
      ["PUT", feedback, JSON.stringify({ rating: "down" })],
      ["DELETE", feedback, undefined],
      ["PATCH", base, JSON.stringify({ title: "Taken over" })],
      ["POST", "/api/chat", JSON.stringify({ question: "Let me in", session_uuid: sessionUuid })],
      ["DELETE", base, undefined],
    ];
    for (const who of [null, "b"] as const) {
      for (const [method, path, body] of routes) {
        const response = await call(path, { method, headers: as(who, body ? json : {}), body });
        await expectProblem(response, 404, "session_not_found");
      }
      // useChat with the owned session's id starts a session of the caller's own, as for any
      // unknown id, and leaves the owned one alone.
      const ui = await call("/api/ui/chat", {
        method: "POST",
        headers: as(who, json),
        body: JSON.stringify({
          id: sessionUuid,
          messages: [{ id: crypto.randomUUID(), role: "user", parts: [{ type: "text", text: "Let me in" }] }],
        }),
      });
      expect(ui.status).toBe(200);
      expect(ui.headers.get("X-Session-Id")).not.toBe(sessionUuid);
      await ui.text();
    }
    expect(await messageCount(sessionUuid)).toBe(before);
    const [answer] = await openSql()<{ feedback_rating: string | null }[]>`
      select feedback_rating from chat_messages where id = ${answerId}`;
    expect(answer?.feedback_rating).toBeNull();

    // Its reader has all of it.
    for (const [method, path, body] of routes.slice(0, 4)) {
      const response = await call(path, { method, headers: as("a", body ? json : {}), body });
      expect(response.status, `${method} ${path}`).toBe(200);
      await response.arrayBuffer();
    }
    await askAs("a", "And on one foot?", sessionUuid);
    expect(await messageCount(sessionUuid)).toBe(before + 2);
    const deleted = await call(base, { method: "DELETE", headers: as("a") });
    expect(deleted.status).toBe(204);
  });

  it("is listed by its reader on another device, newest activity first, and by nobody else", async () => {
    const first = await askAs("a", "How do series elastic actuators protect a gearbox from impacts on landing?");
    const second = await askAs("a", "ZMP?");
    // Other tests sign in as the same reader meanwhile: only the relative order is checked.
    const all = (await mySessions("a", "?limit=100")).sessions;
    const uuids = all.map((s) => s.session_uuid);
    expect(uuids.indexOf(second.sessionUuid)).toBeGreaterThanOrEqual(0);
    expect(uuids.indexOf(second.sessionUuid)).toBeLessThan(uuids.indexOf(first.sessionUuid));
    expect(all.find((s) => s.session_uuid === second.sessionUuid)).toMatchObject({
      title: "ZMP?",
      title_is_custom: false,
      message_count: 2,
    });
    expect(all.find((s) => s.session_uuid === first.sessionUuid)!.title).toBe(
      defaultTitle("How do series elastic actuators protect a gearbox from impacts on landing?"),
    );
    // Paged one at a time, the pages follow one another without a repeat.
    const one = await mySessions("a", "?limit=1");
    expect(one.next_cursor).not.toBeNull();
    const next = await mySessions("a", `?limit=1&cursor=${one.next_cursor}`);
    expect(next.sessions[0]!.session_uuid).not.toBe(one.sessions[0]!.session_uuid);
    const ofB = await mySessions("b", "?limit=100");
    expect(ofB.sessions.map((s) => s.session_uuid)).not.toContain(first.sessionUuid);
  });

  it("keeps a renamed title, and takes the first question's back with null", async () => {
    const { sessionUuid } = await askAs("a", "What is inverse kinematics?");
    const renamed = await call(`/api/sessions/${sessionUuid}`, {
      method: "PATCH",
      headers: as("a", json),
      body: JSON.stringify({ title: "  IK notes  " }),
    });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ session_uuid: sessionUuid, title: "IK notes" });
    await askAs("a", "And with redundancy?", sessionUuid);
    const listed = (await mySessions("a")).sessions.find((s) => s.session_uuid === sessionUuid);
    expect(listed).toMatchObject({ title: "IK notes", title_is_custom: true });
    await call(`/api/sessions/${sessionUuid}`, { method: "PATCH", headers: as("a", json), body: '{"title":null}' });
    const reset = (await mySessions("a")).sessions.find((s) => s.session_uuid === sessionUuid);
    expect(reset).toMatchObject({ title: "What is inverse kinematics?", title_is_custom: false });
    for (const title of ["", "   ", "a\u0000b", "x".repeat(201)]) {
      const refused = await call(`/api/sessions/${sessionUuid}`, {
        method: "PATCH",
        headers: as("a", json),
        body: JSON.stringify({ title }),
      });
      await expectProblem(refused, 400, "validation_error");
    }
  });
});

describe("an anonymous session", () => {
  it("behaves as before for everyone, signed in or not", async () => {
    const { session_uuid } = await ask("Anonymous, as before");
    for (const who of [null, "a", "b"] as const) {
      const response = await call(`/api/sessions/${session_uuid}/messages`, { headers: as(who) });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const listed = await mySessions("a", "?limit=100");
    expect(listed.sessions.map((s) => s.session_uuid)).not.toContain(session_uuid);
  });
});

describe("POST /api/me/sessions/claim", () => {
  it("makes the browser's anonymous sessions the reader's, once, and reports every other alike", async () => {
    const anonymous = [(await ask("Kept in localStorage 1")).session_uuid, (await ask("Kept 2")).session_uuid];
    const ofB = (await askAs("b", "B's own")).sessionUuid;
    const unknown = crypto.randomUUID();
    const claim = (reader: "a" | "b", session_uuids: string[]) =>
      call("/api/me/sessions/claim", {
        method: "POST",
        headers: as(reader, json),
        body: JSON.stringify({ session_uuids }),
      });

    const response = await claim("a", [...anonymous, ofB, unknown, anonymous[0]!]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ claimed: anonymous, not_found: [ofB, unknown] });
    // Idempotent.
    expect(await (await claim("a", anonymous)).json()).toEqual({ claimed: anonymous, not_found: [] });
    // Now theirs: 404 without the token, and B cannot claim them.
    await expectProblem(await call(`/api/sessions/${anonymous[0]}/messages`), 404, "session_not_found");
    expect(await (await claim("b", anonymous)).json()).toEqual({ claimed: [], not_found: anonymous });
    const listed = await mySessions("a", "?limit=100");
    expect(listed.sessions.map((s) => s.session_uuid)).toEqual(expect.arrayContaining(anonymous));
    // B's session is still B's.
    const stillB = await call(`/api/sessions/${ofB}/messages`, { headers: as("b") });
    expect(stillB.status).toBe(200);
    await stillB.arrayBuffer();

    const tooMany = await claim(
      "a",
      Array.from({ length: 101 }, () => crypto.randomUUID()),
    );
    await expectProblem(tooMany, 400, "validation_error");
  });
});

describe("the reader's routes without a token", () => {
  it.each([
    ["GET", "/api/me/sessions"],
    ["POST", "/api/me/sessions/claim"],
    ["GET", "/api/me/export"],
    ["DELETE", "/api/me"],
  ])("%s %s is 401 with WWW-Authenticate", async (method, path) => {
    const response = await call(path, {
      method,
      headers: json,
      body: method === "POST" ? '{"session_uuids":[]}' : undefined,
    });
    await expectProblem(response, 401, "unauthorized");
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  });
});

describe("an import with a reader's token", () => {
  it("is the reader's, and another reader replaying its import_id gets 409", async () => {
    const body = JSON.stringify({
      import_id: crypto.randomUUID(),
      messages: [
        { sender: "user", message: "Imported question" },
        { sender: "bot", message: "Imported answer" },
      ],
    });
    const imported = await call("/api/sessions/import", { method: "POST", headers: as("a", json), body });
    expect(imported.status).toBe(201);
    const { session_uuid } = await imported.json<{ session_uuid: string }>();
    const again = await call("/api/sessions/import", { method: "POST", headers: as("a", json), body });
    expect((await again.json<{ session_uuid: string }>()).session_uuid).toBe(session_uuid);
    await expectProblem(
      await call("/api/sessions/import", { method: "POST", headers: as("b", json), body }),
      409,
      "idempotency_conflict",
    );
    await expectProblem(await call(`/api/sessions/${session_uuid}`), 404, "session_not_found");
  });
});

describe("GET /api/me/export and DELETE /api/me", () => {
  it("exports every conversation of the reader, then erases them all for good", async () => {
    // A reader of their own, so that other tests' sessions do not mix in.
    const sessions = [await askAs("b", "Export me 1"), await askAs("b", "Export me 2")];
    const exported = await call("/api/me/export", { headers: as("b") });
    expect(exported.status).toBe(200);
    expect(exported.headers.get("Content-Disposition")).toMatch(/^attachment; filename="chat-history-/);
    const document = await exported.json<{ sessions: { messages: { message: string }[] }[] }>();
    const questions = document.sessions.map((s) => s.messages[0]!.message);
    expect(questions).toEqual(expect.arrayContaining(["Export me 1", "Export me 2"]));
    expect(JSON.stringify(document)).not.toContain(sessions[0]!.sessionUuid);

    const erased = await call("/api/me", { method: "DELETE", headers: as("b") });
    expect(erased.status).toBe(200);
    expect((await erased.json<{ sessions_erased: number }>()).sessions_erased).toBeGreaterThanOrEqual(2);
    expect((await mySessions("b")).sessions).toEqual([]);
    for (const { sessionUuid } of sessions) {
      await expectProblem(await call(`/api/sessions/${sessionUuid}`, { headers: as("b") }), 404, "session_not_found");
      expect(await messageCount(sessionUuid)).toBe(-1);
    }
    const [reader] = await openSql()`select 1 from readers where subject = ${readers.b.subject}`;
    expect(reader).toBeUndefined();
  });
});

describe("default titles", () => {
  it.each([
    [null, "New conversation"],
    ["  What is a ZMP?  ", "What is a ZMP?"],
    ["Line one\nline two", "Line one line two"],
    [
      "How does a humanoid robot keep its balance while walking over uneven ground in the rain?",
      "How does a humanoid robot keep its balance while walking…",
    ],
    ["x".repeat(80), `${"x".repeat(60)}…`],
    ["🤖".repeat(70), `${"🤖".repeat(60)}…`],
  ])("%j → %j", (question, title) => {
    expect(defaultTitle(question)).toBe(title);
  });
});

describe("CORS for a signed-in front end", () => {
  it("lets a configured origin send Authorization, PATCH and DELETE", async () => {
    for (const [path, method] of [
      ["/api/me/sessions", "GET"],
      [`/api/sessions/${crypto.randomUUID()}`, "PATCH"],
      ["/api/me", "DELETE"],
    ]) {
      const response = await call(path!, {
        method: "OPTIONS",
        headers: {
          Origin: "https://book.example",
          "Access-Control-Request-Method": method!,
          "Access-Control-Request-Headers": "authorization, content-type",
        },
      });
      expect(response.status, path).toBe(204);
      expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://book.example");
      expect(response.headers.get("Access-Control-Allow-Methods")).toContain(method);
      expect(response.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    }
  });
});

describe("retention", () => {
  it("applies to a reader's sessions as to any other: expired, it is 404 and no longer listed", async () => {
    const { sessionUuid } = await askAs("a", "A conversation from long ago");
    // A year and more without activity (SESSION_RETENTION_DAYS is 365 in the tests).
    await openSql()`
      update chat_sessions
      set created_at = now() - interval '400 days', last_message_at = now() - interval '400 days'
      where session_uuid = ${sessionUuid}`;
    await expectProblem(
      await call(`/api/sessions/${sessionUuid}/messages`, { headers: as("a") }),
      404,
      "session_not_found",
    );
    const listed = await mySessions("a", "?limit=100");
    expect(listed.sessions.map((s) => s.session_uuid)).not.toContain(sessionUuid);
  });
});
