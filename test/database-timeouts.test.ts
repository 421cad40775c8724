// Every wait on the database is bounded: a row lock held elsewhere (the database's lock_timeout),
// and a database that stops answering altogether (the Worker's DB_TIMEOUT_MS). Calls app
// instances, some bound to the database behind a proxy the test freezes (test/fakes).
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { Responder } from "../src/answers/responder";
import { createApp } from "../src/app";
import { openSql } from "./helpers/database";
import { ask, callApp, chatRequest, expectProblem, history } from "./helpers/http";

const freezeControl = inject("freezeControlUrl");
const freeze = () => fetch(`${freezeControl}/freeze`, { method: "POST" });
const thaw = () => fetch(`${freezeControl}/thaw`, { method: "POST" });

// Generous: these bound how long a request may hang, they do not measure speed.
const margin = 1_500;

afterEach(async () => {
  await thaw();
});

/** Holds the row lock of a session from another connection until `release` is called. */
async function holdSessionLock(sessionUuid: string) {
  const sql = openSql();
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked = () => {};
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const transaction = sql.begin(async (tx) => {
    await tx`set local lock_timeout = 0`;
    await tx`select 1 from chat_sessions where session_uuid = ${sessionUuid} for update`;
    locked();
    await released;
  });
  await isLocked;
  return async () => {
    release();
    await transaction;
  };
}

describe("a row lock held elsewhere", () => {
  it("makes a turn on that session answer 503 database_timeout after the lock timeout, then work again", async () => {
    const { session_uuid } = await ask("a session someone else has locked");
    const release = await holdSessionLock(session_uuid);
    const started = Date.now();
    const { response } = await callApp(createApp(), "/api/chat", chatRequest({ question: "anyone?", session_uuid }));
    const waited = Date.now() - started;
    await release();

    const problem = await expectProblem(response, 503, "database_timeout");
    expect(response.headers.get("Retry-After")).toBe("2");
    expect(problem.detail).not.toContain("client_message_id");
    expect(waited).toBeLessThan(2_000 + margin);
    expect((await history(session_uuid)).messages).toHaveLength(2);

    const after = await ask("and now?", { session_uuid });
    expect(after.user_message.seq).toBe(3);
  });
});

describe("a database that stops answering", () => {
  const bindings = { HYPERDRIVE: env.FREEZABLE_HYPERDRIVE, DB_TIMEOUT_MS: "1000" } as Partial<Env>;

  it("answers 503 database_timeout within DB_TIMEOUT_MS, then normally after it recovers", async () => {
    const { session_uuid } = await ask("a session to read");
    await freeze();
    const started = Date.now();
    const { response } = await callApp(createApp(), `/api/sessions/${session_uuid}/messages`, {}, bindings);
    const waited = Date.now() - started;
    await expectProblem(response, 503, "database_timeout");
    expect(waited).toBeLessThan(1_000 + margin);

    await thaw();
    const { response: after } = await callApp(createApp(), `/api/sessions/${session_uuid}/messages`, {}, bindings);
    expect(after.status).toBe(200);
  });

  it("keeps the question when it stops while the answer is stored, and the retry answers it once", async () => {
    const client_message_id = crypto.randomUUID();
    // The database freezes while the model writes the answer, so storing the answer hangs.
    const freezing: Responder = {
      name: "freezing",
      answer: async () => {
        await freeze();
        return { text: "An answer the database never took.", sources: [], metadata: {} };
      },
    };
    const started = Date.now();
    const { response, finished } = await callApp(
      createApp({ responderFor: () => freezing }),
      "/api/chat",
      chatRequest({ question: "Will this be kept?", client_message_id }),
      bindings,
    );
    const waited = Date.now() - started;
    await finished();
    const problem = await expectProblem(response, 503, "database_timeout");
    expect(waited).toBeLessThan(1_000 + margin);
    expect(problem.detail).toContain("client_message_id");
    const sessionUuid = problem.session_uuid as string;
    expect(response.headers.get("X-Session-Id")).toBe(sessionUuid);

    // The statement the Worker gave up on may still commit once the database thaws; either way
    // the retry finds the question, and the session ends up with one question and one answer.
    await thaw();
    const retry = await ask("Will this be kept?", { session_uuid: sessionUuid, client_message_id });
    expect(retry.user_message.seq).toBe(1);
    expect((await history(sessionUuid)).messages.map((m) => m.seq)).toEqual([1, 2]);
  });
});
