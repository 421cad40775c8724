// Retention (README "Data lifecycle"): the Cron Trigger's purge deletes expired sessions with their
// messages in bounded batches, and requests treat an expired session as gone before it runs.
// Calls the Worker's own scheduled handler in workerd as the Cron Trigger does, and its fetch handler.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { deleteExpiredSessions } from "../src/db/lifecycle";
import worker from "../src/index";
import { purgeLimits } from "../src/lifecycle/retention";
import { explainingDatabase, openSql, seedSession } from "./helpers/database";
import { ask, call, expectProblem, history, postChat } from "./helpers/http";

const day = 86_400_000;
const hour = 3_600_000;
/**
 * The purge runs as if scheduled at this time, in 2001, so that the sessions these tests seed
 * around its boundary are older than anything the other test files create, which they
 * therefore never see nor delete (the admin tests seed 2003 and 2004; afterEach clears before 2002).
 */
const scheduledTime = Date.UTC(2001, 5, 1, 0, 17);
const boundary = scheduledTime - 365 * day;

/** What the purge wrote to the console during the test, parsed. */
let logged: Record<string, any>[];

beforeEach(() => {
  logged = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push({ level: method, ...JSON.parse(args.map(String).join(" ")) });
    });
  }
});

afterEach(async () => {
  vi.restoreAllMocks();
  await openSql()`delete from chat_sessions where created_at < '2002-01-01'`;
});

/** Runs the Worker's scheduled handler as the Cron Trigger would, with `settings` over its vars. */
async function runCron(settings: Partial<Record<"SESSION_RETENTION_DAYS", string>> = {}) {
  const controller = createScheduledController({ scheduledTime, cron: "17 * * * *" });
  // The handler awaits all its work, so its promise settles when the run is over.
  await worker.scheduled(controller, { ...env, ...settings });
}

async function sessionsLeft(ids: number[]): Promise<number[]> {
  const rows = await openSql()<
    { id: string }[]
  >`select id from chat_sessions where id in ${openSql()(ids)} order by id`;
  return rows.map((row) => Number(row.id));
}

async function messagesLeft(ids: number[]): Promise<number> {
  const [row] = await openSql()<{ n: number }[]>`
    select count(*)::int as n from chat_messages where session_id in ${openSql()(ids)}`;
  return row!.n;
}

describe("the retention purge (Cron Trigger)", () => {
  it("deletes the sessions last active before the boundary with their messages, and keeps the others", async () => {
    const sql = openSql();
    const expired = await seedSession(sql, { lastActivity: new Date(boundary - hour), messages: 4 });
    const expiredEmpty = await seedSession(sql, { lastActivity: new Date(boundary - 1) });
    const kept = await seedSession(sql, { lastActivity: new Date(boundary + hour), messages: 4 });
    const keptEmpty = await seedSession(sql, { lastActivity: new Date(boundary + 1) });
    // Created long before the boundary, but with a message after it: its last activity counts.
    const oldButActive = await seedSession(sql, { lastActivity: new Date(boundary + day), messages: 400 });

    await runCron();

    const all = [expired, expiredEmpty, kept, keptEmpty, oldButActive].map((s) => s.id);
    expect(await sessionsLeft(all)).toEqual([kept.id, keptEmpty.id, oldButActive.id]);
    expect(await messagesLeft([expired.id])).toBe(0);
    expect(await messagesLeft([kept.id, oldButActive.id])).toBe(404);
    expect(logged).toEqual([
      {
        level: "log",
        event: "retention_purge",
        retention_days: 365,
        expired_before: new Date(boundary).toISOString(),
        sessions: 2,
        messages: 4,
        batches: 1,
        backlog: "drained",
        ms: expect.any(Number),
      },
    ]);
  });

  it("works off a backlog larger than a batch in bounded batches, and what one run leaves, the next", async () => {
    const { batchSessions, batchesPerRun } = purgeLimits;
    const backlog = batchSessions * batchesPerRun + 150;
    const sql = openSql();
    await sql`
      insert into chat_sessions (session_uuid, created_at)
      select gen_random_uuid(), ${new Date(boundary - day).toISOString()}::timestamptz - make_interval(secs => n)
      from generate_series(1, ${backlog}) n`;

    await runCron();
    expect(logged.at(-1)).toMatchObject({
      sessions: batchSessions * batchesPerRun,
      batches: batchesPerRun,
      backlog: "remaining",
    });
    await runCron();
    expect(logged.at(-1)).toMatchObject({ sessions: 150, batches: 1, backlog: "drained" });
    // Nothing last active before the boundary is left. (Counting by the session's activity, not
    // by an early creation date: the admin tests seed sessions in 2003 and 2004.)
    const [left] = await sql<{ n: number }[]>`
      select count(*)::int as n from chat_sessions
      where coalesce(last_message_at, created_at) < ${new Date(boundary).toISOString()}::timestamptz`;
    expect(left!.n).toBe(0);
  });

  it("ends a batch once it holds about batchMessages messages, so that no statement holds its locks long", async () => {
    const sql = openSql();
    const perSession = Math.ceil((purgeLimits.batchMessages * 0.6) / 2) * 2;
    const sessions = [];
    for (let i = 0; i < 3; i++) {
      sessions.push(await seedSession(sql, { lastActivity: new Date(boundary - day + i), messages: perSession }));
    }

    await runCron();

    // The first two sessions pass the budget together, so the third waits for a batch of its own.
    expect(logged.at(-1)).toMatchObject({ sessions: 3, messages: 3 * perSession, batches: 2, backlog: "drained" });
    expect(await sessionsLeft(sessions.map((s) => s.id))).toEqual([]);
  });

  it("skips a session whose row another transaction holds, without waiting, and deletes it on the next run", async () => {
    const sql = openSql();
    const locked = await seedSession(sql, { lastActivity: new Date(boundary - day), messages: 2 });
    const free = await seedSession(sql, { lastActivity: new Date(boundary - day), messages: 2 });
    let release!: () => void;
    let isLocked!: () => void;
    const lockTaken = new Promise<void>((resolve) => {
      isLocked = resolve;
    });
    const holder = sql.begin(async (tx) => {
      await tx`select 1 from chat_sessions where id = ${locked.id} for update`;
      isLocked();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await lockTaken;

    const started = Date.now();
    await runCron();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await sessionsLeft([locked.id, free.id])).toEqual([locked.id]);

    release();
    await holder;
    await runCron();
    expect(await sessionsLeft([locked.id])).toEqual([]);
  });

  it("keeps every session with SESSION_RETENTION_DAYS=0, and says so", async () => {
    const ancient = await seedSession(openSql(), { lastActivity: new Date(Date.UTC(2000, 0, 1)), messages: 2 });

    await runCron({ SESSION_RETENTION_DAYS: "0" });

    expect(await sessionsLeft([ancient.id])).toEqual([ancient.id]);
    expect(logged).toEqual([{ level: "log", event: "retention_purge", retention_days: 0, kept: "forever" }]);
  });

  it("refuses to run with an invalid SESSION_RETENTION_DAYS, naming the variable and deleting nothing", async () => {
    const expired = await seedSession(openSql(), { lastActivity: new Date(boundary - day) });

    await expect(runCron({ SESSION_RETENTION_DAYS: "thirty" })).rejects.toThrow(/SESSION_RETENTION_DAYS/);

    expect(await sessionsLeft([expired.id])).toEqual([expired.id]);
    expect(logged).toEqual([
      {
        level: "error",
        event: "retention_purge",
        error: "SESSION_RETENTION_DAYS must be an integer from 0 to 36500",
      },
    ]);
  });

  it("logs counts only: no session UUID and no text of a conversation", async () => {
    const sql = openSql();
    const expired = await seedSession(sql, { lastActivity: new Date(boundary - day), messages: 2 });

    await runCron();

    const everything = JSON.stringify(logged);
    expect(everything).not.toContain(expired.uuid);
    expect(everything).not.toContain(expired.uuid.slice(0, 8));
    expect(everything).not.toMatch(/Question|Answer|book\.example/);
  });

  it("finds the expired sessions through chat_sessions_activity_idx among 100,000 sessions", async () => {
    const plan = await openSql()
      .begin(async (tx) => {
        await tx`set local statement_timeout = '60s'`;
        // One in a hundred expired. Rolled back at the end, so that no other test sees them.
        await tx`
          insert into chat_sessions (session_uuid, created_at, last_message_at)
          select gen_random_uuid(), now() - make_interval(days => 400),
            now() - make_interval(days => case when n % 100 = 0 then 366 else n % 300 end)
          from generate_series(1, 100000) n`;
        await tx`analyze chat_sessions`;
        // The purge's own statement, as it sends it, explained instead of run.
        const { db, plans } = explainingDatabase(tx);
        await deleteExpiredSessions(db, {
          before: new Date(Date.now() - 365 * day),
          maxSessions: purgeLimits.batchSessions,
          maxMessages: purgeLimits.batchMessages,
        });
        throw new RolledBack(plans.join("\n"));
      })
      .catch((error: unknown) => {
        if (error instanceof RolledBack) return error.plan;
        throw error;
      });
    // An ordered Index Scan, or a Bitmap Index Scan and a sort of what it found: either way only the
    // expired entries of the index are read.
    expect(plan).toMatch(/Index Scan (using|on) chat_sessions_activity_idx/);
    expect(plan).not.toMatch(/Seq Scan on chat_sessions/);
  });
});

class RolledBack extends Error {
  constructor(readonly plan: string) {
    super("rolled back");
  }
}

describe("an expired session that the purge has not deleted yet", () => {
  /** A conversation whose last activity was `daysAgo` days ago, by the database's clock. */
  async function conversation(daysAgo: number) {
    const client_message_id = crypto.randomUUID();
    const turn = await ask("Will this be kept?", { client_message_id });
    await openSql()`
      update chat_sessions
      set created_at = created_at - make_interval(days => ${daysAgo}),
        last_message_at = last_message_at - make_interval(days => ${daysAgo})
      where session_uuid = ${turn.session_uuid}`;
    return { ...turn, client_message_id };
  }

  it("is gone for every endpoint: 404 session_not_found, never part of it", async () => {
    const { session_uuid, client_message_id } = await conversation(366);
    await expectProblem(await call(`/api/sessions/${session_uuid}`), 404, "session_not_found");
    await expectProblem(await call(`/api/sessions/${session_uuid}/messages`), 404, "session_not_found");
    await expectProblem(await call(`/api/sessions/${session_uuid}/export`), 404, "session_not_found");
    await expectProblem(await call(`/api/ui/chat/${session_uuid}/messages`), 404, "session_not_found");
    await expectProblem(await postChat({ question: "Still there?", session_uuid }), 404, "session_not_found");
    // Not even a replay of its last turn, which would otherwise be answered from the store.
    await expectProblem(
      await postChat({ question: "Will this be kept?", session_uuid, client_message_id }),
      404,
      "session_not_found",
    );
    const [row] = await openSql()<{ message_count: number }[]>`
      select message_count from chat_sessions where session_uuid = ${session_uuid}`;
    expect(row!.message_count).toBe(2);
  });

  it("is not continued by useChat, which starts a new session as for any id that names none", async () => {
    const { session_uuid } = await conversation(366);
    const response = await call("/api/ui/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        id: session_uuid,
        message: { id: crypto.randomUUID(), role: "user", parts: [{ type: "text", text: "Still there?" }] },
      }),
    });
    expect(response.status).toBe(200);
    await response.text();
    const answeredIn = response.headers.get("X-Session-Id");
    expect(answeredIn).toMatch(/^[0-9a-f-]{36}$/);
    expect(answeredIn).not.toBe(session_uuid);
    const [row] = await openSql()<{ message_count: number }[]>`
      select message_count from chat_sessions where session_uuid = ${session_uuid}`;
    expect(row!.message_count).toBe(2);
  });

  it("is erased by DELETE all the same, which answers 404 as for any request about it", async () => {
    const { session_uuid } = await conversation(400);
    await expectProblem(await call(`/api/sessions/${session_uuid}`, { method: "DELETE" }), 404, "session_not_found");
    const rows = await openSql()`select 1 from chat_sessions where session_uuid = ${session_uuid}`;
    expect(rows).toHaveLength(0);
  });

  it("is still served the day before it expires", async () => {
    const { session_uuid } = await conversation(364);
    expect((await history(session_uuid)).messages).toHaveLength(2);
    const response = await postChat({ question: "And now?", session_uuid });
    expect(response.status).toBe(200);
  });
});
