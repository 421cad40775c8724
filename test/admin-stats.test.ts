// The admin statistics (docs/api.md §13.5): per UTC day or hour and for the whole range, checked
// against figures the test computes with SQL of its own over conversations it writes into 2004
// (a range no other test touches), and against the numbers worked out by hand; and the hourly
// rollups they are read from (2011-2013): exact right after every kind of write, folded by the
// Cron Trigger, and read instead of the messages. Calls the Worker's fetch and scheduled
// handlers, and the statement's own function for its plan; the checking SQL goes to PostgreSQL directly.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { readStats, type StatsQuery } from "../src/db/admin-stats";
import worker from "../src/index";
import { statsFoldCron } from "../src/lifecycle/stats-fold";
import type { Stats, StatsFigures } from "../src/schemas/responses";
import { callAdmin, readAdmin } from "./helpers/admin";
import { openSql, recordingDatabase } from "./helpers/database";
import { call, expectProblem } from "./helpers/http";
import { inYear, seedConversation, seedReader } from "./helpers/seed";

const chapter = (n: number) => ({
  title: `Chapter ${n}`,
  url: `https://book.example/ch${n}`,
  snippet: "…",
  score: 0.8,
});
const answered = (latency: number, tokens: number) => ({
  model: "gpt-test",
  latency_ms: latency,
  usage: { prompt_tokens: tokens - 10, completion_tokens: 10, total_tokens: tokens },
});

beforeAll(async () => {
  const sql = openSql();
  // Signed-in readers: the first owns both sessions of 1 February, the second the imported one,
  // the third the session without a question.
  const [first, second, third] = [await seedReader(sql), await seedReader(sql), await seedReader(sql)];
  await seedConversation(sql, {
    createdAt: inYear(2004, 2, 1, 9),
    readerId: first.id,
    turns: [
      {
        question: "One",
        at: inYear(2004, 2, 1, 9, 1),
        answer: {
          metadata: answered(1000, 100),
          sources: [chapter(1), chapter(2)],
          feedback: { rating: "up", at: inYear(2004, 2, 1, 12) },
        },
      },
      {
        question: "Cut short",
        at: inYear(2004, 2, 1, 9, 5),
        answer: { status: "incomplete", metadata: { cut_short: "answer_failed" } },
      },
      { question: "Never answered", at: inYear(2004, 2, 1, 9, 10), answer: null },
    ],
  });
  await seedConversation(sql, {
    createdAt: inYear(2004, 2, 1, 23, 30),
    readerId: first.id,
    turns: [
      {
        question: "Answered after midnight",
        at: inYear(2004, 2, 1, 23, 31),
        answer: {
          at: new Date(inYear(2004, 2, 2).getTime() + 30_000),
          metadata: answered(3000, 300),
          sources: [chapter(1)],
          feedback: { rating: "down", comment: "wrong", at: inYear(2004, 2, 3, 8) },
        },
      },
    ],
  });
  // Imported (its first turn came from a browser), then continued here.
  await seedConversation(sql, {
    createdAt: inYear(2004, 2, 2, 10),
    importId: crypto.randomUUID(),
    readerId: second.id,
    turns: [
      {
        question: "Imported from a browser",
        at: inYear(2004, 2, 2, 10, 1),
        questionMetadata: { imported: true },
        answer: { metadata: { imported: true, ...answered(99_999, 9_999) }, sources: [chapter(9)] },
      },
      {
        question: "Asked here",
        at: inYear(2004, 2, 2, 10, 5),
        answer: {
          metadata: answered(2000, 200),
          sources: [chapter(2)],
          feedback: { rating: "up", at: inYear(2004, 2, 2, 11) },
        },
      },
    ],
  });
  await seedConversation(sql, { createdAt: inYear(2004, 2, 3, 15), turns: [], readerId: third.id });
});

const zero: StatsFigures = {
  sessions: 0,
  questions: 0,
  readers: 0,
  imported_sessions: 0,
  imported_messages: 0,
  answers: { complete: 0, incomplete: 0 },
  failures: { unanswered: 0, cut_short: 0 },
  latency_ms: { p50: null, p95: null },
  tokens: { total: null, p50: null, p95: null },
  ratings: { up: 0, down: 0 },
};

/**
 * The figures of [from, to), computed the plain way: one query per figure, each over the tables
 * as they are, with the rules of docs/api.md §13.5 written out again.
 */
async function figuresBySql(from: Date, to: Date): Promise<StatsFigures> {
  const sql = openSql();
  const native = sql`not coalesce((metadata ->> 'imported')::boolean, false)`;
  const inRange = sql`timestamp >= ${from} and timestamp < ${to}`;
  const one = async (query: PromiseLike<readonly Record<string, unknown>[]>) => {
    const [row] = await query;
    return row!.value === null ? null : Number(row!.value);
  };
  const percentile = (fraction: number, path: string) => sql`
    select percentile_cont(${fraction}) within group (order by (metadata #>> ${path}::text[])::float8) as value
    from chat_messages where sender = 'bot' and ${inRange} and ${native} and metadata #> ${path}::text[] is not null`;
  const rounded = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
  return {
    sessions: (await one(
      sql`select count(*) as value from chat_sessions where created_at >= ${from} and created_at < ${to} and import_id is null`,
    ))!,
    questions: (await one(
      sql`select count(*) as value from chat_messages where sender = 'user' and ${inRange} and ${native}`,
    ))!,
    readers: (await one(sql`
      select count(*) as value from readers r
      where exists (
        select 1 from chat_sessions s join chat_messages q on q.session_id = s.id
        where s.reader_id = r.id and q.sender = 'user' and ${inRange} and ${native})`))!,
    imported_sessions: (await one(
      sql`select count(*) as value from chat_sessions where created_at >= ${from} and created_at < ${to} and import_id is not null`,
    ))!,
    imported_messages: (await one(sql`
      select count(*) as value from chat_messages m join chat_sessions s on s.id = m.session_id
      where s.created_at >= ${from} and s.created_at < ${to} and s.import_id is not null and not ${native}`))!,
    answers: {
      complete: (await one(
        sql`select count(*) as value from chat_messages where sender = 'bot' and status = 'complete' and ${inRange} and ${native}`,
      ))!,
      incomplete: (await one(
        sql`select count(*) as value from chat_messages where sender = 'bot' and status = 'incomplete' and ${inRange} and ${native}`,
      ))!,
    },
    failures: {
      unanswered: (await one(sql`
        select count(*) as value from chat_messages q
        where sender = 'user' and ${inRange} and ${native}
          and (select count(*) from chat_messages a where a.reply_to_id = q.id) = 0`))!,
      cut_short: (await one(
        sql`select count(*) as value from chat_messages where sender = 'bot' and metadata ? 'cut_short' and ${inRange} and ${native}`,
      ))!,
    },
    latency_ms: {
      p50: rounded(await one(percentile(0.5, "{latency_ms}"))),
      p95: rounded(await one(percentile(0.95, "{latency_ms}"))),
    },
    tokens: {
      total: await one(sql`
        select sum((metadata #>> '{usage,total_tokens}')::float8) as value from chat_messages
        where sender = 'bot' and ${inRange} and ${native}`),
      p50: rounded(await one(percentile(0.5, "{usage,total_tokens}"))),
      p95: rounded(await one(percentile(0.95, "{usage,total_tokens}"))),
    },
    ratings: {
      up: (await one(sql`
        select count(*) as value from chat_messages
        where feedback_rating = 'up' and feedback_at >= ${from} and feedback_at < ${to}`))!,
      down: (await one(sql`
        select count(*) as value from chat_messages
        where feedback_rating = 'down' and feedback_at >= ${from} and feedback_at < ${to}`))!,
    },
  };
}

describe("GET /api/admin/stats", () => {
  it("gives each UTC day and the whole range the figures the tables hold, as SQL of the test's own computes them", async () => {
    const stats = await readAdmin<Stats>("/api/admin/stats?from=2004-02-01&to=2004-02-04&bucket=day");
    expect(stats).toMatchObject({ from: "2004-02-01T00:00:00.000Z", to: "2004-02-04T00:00:00.000Z", bucket: "day" });
    expect(stats.buckets.map((bucket) => bucket.start)).toEqual([
      "2004-02-01T00:00:00.000Z",
      "2004-02-02T00:00:00.000Z",
      "2004-02-03T00:00:00.000Z",
    ]);
    for (const { start, ...figures } of stats.buckets) {
      const from = new Date(start);
      expect(figures, start).toEqual(await figuresBySql(from, new Date(from.getTime() + 86_400_000)));
    }
    expect(stats.totals).toEqual(await figuresBySql(new Date(stats.from), new Date(stats.to)));
  });

  it("counts as worked out by hand: imported messages apart, failures, answers in the day they were stored, readers once each", async () => {
    const stats = await readAdmin<Stats>("/api/admin/stats?from=2004-02-01&to=2004-02-04");
    const [first, second, third] = stats.buckets;
    expect(first).toEqual({
      ...zero,
      start: "2004-02-01T00:00:00.000Z",
      sessions: 2,
      questions: 4,
      readers: 1,
      answers: { complete: 1, incomplete: 1 },
      failures: { unanswered: 1, cut_short: 1 },
      latency_ms: { p50: 1000, p95: 1000 },
      tokens: { total: 100, p50: 100, p95: 100 },
      ratings: { up: 1, down: 0 },
    });
    expect(second).toEqual({
      ...zero,
      start: "2004-02-02T00:00:00.000Z",
      questions: 1,
      readers: 1,
      imported_sessions: 1,
      imported_messages: 2,
      answers: { complete: 2, incomplete: 0 },
      latency_ms: { p50: 2500, p95: 2950 },
      tokens: { total: 500, p50: 250, p95: 295 },
      ratings: { up: 1, down: 0 },
    });
    expect(third).toEqual({ ...zero, start: "2004-02-03T00:00:00.000Z", sessions: 1, ratings: { up: 0, down: 1 } });
    // The third reader's session holds no question, and an answer stored on the 2nd is no question.
    expect(stats.totals).toEqual({
      sessions: 3,
      questions: 5,
      readers: 2,
      imported_sessions: 1,
      imported_messages: 2,
      answers: { complete: 3, incomplete: 1 },
      failures: { unanswered: 1, cut_short: 1 },
      latency_ms: { p50: 2000, p95: 2900 },
      tokens: { total: 600, p50: 200, p95: 290 },
      ratings: { up: 2, down: 1 },
    });
    expect(stats.top_sources).toEqual([
      { title: "Chapter 1", url: "https://book.example/ch1", answers: 2 },
      { title: "Chapter 2", url: "https://book.example/ch2", answers: 2 },
    ]);
  });

  it("counts an imported transcript apart, by when it was imported, and a question asked after it as new", async () => {
    const response = await call("/api/sessions/import", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        import_id: crypto.randomUUID(),
        messages: [
          { sender: "user", message: "Asked in a browser in 2005", timestamp: "2005-03-01T10:00:00Z" },
          { sender: "bot", message: "Answered there", timestamp: "2005-03-01T10:00:02Z", sources: [chapter(7)] },
          { sender: "user", message: "Left without an answer", timestamp: "2005-03-01T10:01:00Z" },
        ],
      }),
    });
    const { session_uuid } = (await response.json()) as { session_uuid: string };
    expect(response.status).toBe(201);
    // As if it had been imported on 10 March 2005 by a signed-in reader, and continued with one
    // turn on the 11th.
    const sql = openSql();
    const reader = await seedReader(sql);
    const [session] = await sql<{ id: string }[]>`
      update chat_sessions set created_at = '2005-03-10T12:00:00Z', last_message_at = '2005-03-10T12:00:00Z',
        reader_id = ${reader.id}
      where session_uuid = ${session_uuid} returning id`;
    const [question] = await sql<{ id: string }[]>`
      insert into chat_messages (session_id, seq, sender, message, timestamp)
      values (${session!.id}, 4, 'user', 'Asked here after the import', '2005-03-11T09:00:00Z') returning id`;
    await sql`
      insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, metadata)
      values (${session!.id}, 5, 'bot', 'Answered here', '2005-03-11T09:00:01Z', ${question!.id},
        ${sql.json(answered(1500, 150))})`;
    await sql`update chat_sessions set message_count = 5, last_message_at = '2005-03-11T09:00:01Z' where id = ${session!.id}`;

    const stats = await readAdmin<Stats>("/api/admin/stats?from=2005-03-01&to=2005-03-12");
    const byDay = Object.fromEntries(stats.buckets.map(({ start, ...figures }) => [start.slice(0, 10), figures]));
    // The transcript's own days hold nothing, its reader neither: it was not asked here.
    expect(byDay["2005-03-01"]).toEqual(zero);
    expect(byDay["2005-03-10"]).toEqual({ ...zero, imported_sessions: 1, imported_messages: 3 });
    expect(byDay["2005-03-11"]).toEqual({
      ...zero,
      questions: 1,
      readers: 1,
      answers: { complete: 1, incomplete: 0 },
      latency_ms: { p50: 1500, p95: 1500 },
      tokens: { total: 150, p50: 150, p95: 150 },
    });
    expect(stats.totals).toEqual(await figuresBySql(new Date(stats.from), new Date(stats.to)));
    expect(stats.top_sources).toEqual([]);

    const listed = await readAdmin<{ sessions: { session_uuid: string; imported: boolean }[] }>(
      "/api/admin/sessions?from=2005-03-11&to=2005-03-12",
    );
    expect(listed.sessions).toEqual([
      expect.objectContaining({ session_uuid, imported: true, message_count: 5, reader: reader.reference }),
    ]);
  });

  it("counts each signed-in reader once a bucket, by the questions asked in it, and no anonymous or imported one", async () => {
    const sql = openSql();
    const [a, b] = [await seedReader(sql), await seedReader(sql)];
    const day = (n: number, hour: number) => inYear(2009, 1, n, hour);
    await seedConversation(sql, { createdAt: day(1, 9), readerId: a.id, turns: [{ question: "A1", at: day(1, 10) }] });
    await seedConversation(sql, {
      createdAt: day(1, 9),
      readerId: a.id,
      turns: [
        { question: "A2", at: day(1, 11) },
        { question: "A2 again", at: day(2, 9) },
      ],
    });
    await seedConversation(sql, { createdAt: day(1, 9), turns: [{ question: "Anonymous", at: day(1, 12) }] });
    await seedConversation(sql, {
      createdAt: day(2, 9),
      importId: crypto.randomUUID(),
      readerId: b.id,
      turns: [{ question: "Imported", at: day(1, 8), questionMetadata: { imported: true }, answer: null }],
    });

    const stats = await readAdmin<Stats>("/api/admin/stats?from=2009-01-01&to=2009-01-03");
    expect(stats.buckets.map(({ questions, readers }) => ({ questions, readers }))).toEqual([
      { questions: 3, readers: 1 },
      { questions: 1, readers: 1 },
    ]);
    expect(stats.totals).toMatchObject({ questions: 4, readers: 1 });
    for (const { start, ...figures } of stats.buckets) {
      const from = new Date(start);
      expect(figures, start).toEqual(await figuresBySql(from, new Date(from.getTime() + 86_400_000)));
    }
    expect(stats.totals).toEqual(await figuresBySql(new Date(stats.from), new Date(stats.to)));
  });

  it("buckets by UTC hour, and a range that is not aligned counts only what falls inside it", async () => {
    const hours = await readAdmin<Stats>(
      "/api/admin/stats?from=2004-02-01T23:00:00Z&to=2004-02-02T01:00:00Z&bucket=hour",
    );
    expect(
      hours.buckets.map(({ start, sessions, questions, answers }) => ({ start, sessions, questions, answers })),
    ).toEqual([
      { start: "2004-02-01T23:00:00.000Z", sessions: 1, questions: 1, answers: { complete: 0, incomplete: 0 } },
      { start: "2004-02-02T00:00:00.000Z", sessions: 0, questions: 0, answers: { complete: 1, incomplete: 0 } },
    ]);
    expect(hours.top_sources).toEqual([{ title: "Chapter 1", url: "https://book.example/ch1", answers: 1 }]);
    const partial = await readAdmin<Stats>("/api/admin/stats?from=2004-02-01T09:03:00Z&to=2004-02-01T09:07:00%2B00:00");
    expect(partial.buckets).toHaveLength(1);
    expect(partial.buckets[0]).toMatchObject({ start: "2004-02-01T00:00:00.000Z", questions: 1, sessions: 0 });
    expect(partial.totals).toEqual(await figuresBySql(new Date(partial.from), new Date(partial.to)));
  });

  it("covers the last 30 UTC days, today included, when no range is given", async () => {
    const stats = await readAdmin<Stats>("/api/admin/stats");
    const endOfToday = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 86_400_000;
    expect(Date.parse(stats.to)).toBe(endOfToday);
    expect(Date.parse(stats.from)).toBe(endOfToday - 30 * 86_400_000);
    expect(stats.buckets).toHaveLength(30);
    const hourly = await readAdmin<Stats>("/api/admin/stats?bucket=hour");
    expect(hourly.buckets).toHaveLength(48);
  });

  it.each([
    ["to before from", "from=2004-02-02&to=2004-02-01", "to"],
    ["an empty range", "from=2004-02-01&to=2004-02-01", "to"],
    ["another bucket", "bucket=week", "bucket"],
    ["more than 1,000 days", "from=2000-01-01&to=2004-01-01", "from"],
    ["more than 1,000 hours", "from=2004-01-01&to=2004-03-01&bucket=hour", "from"],
    ["a malformed time", "to=yesterday", "to"],
  ])("answers 400 validation_error for %s", async (_, query, path) => {
    const problem = await expectProblem(await callAdmin(`/api/admin/stats?${query}`), 400, "validation_error");
    expect(problem.errors?.map((error) => error.path)).toEqual([path]);
  });
});

/**
 * Checks every bucket of a stats response, and its totals, against figuresBySql over the same
 * time: a bucket's slice of [from, to).
 */
async function expectExact(query: string) {
  const stats = await readAdmin<Stats>(`/api/admin/stats?${query}`);
  const [from, to] = [Date.parse(stats.from), Date.parse(stats.to)];
  const unit = stats.bucket === "day" ? 86_400_000 : 3_600_000;
  for (const { start, ...figures } of stats.buckets) {
    const bucketFrom = Math.max(Date.parse(start), from);
    const bucketTo = Math.min(Date.parse(start) + unit, to);
    expect(figures, `${query}: ${start}`).toEqual(await figuresBySql(new Date(bucketFrom), new Date(bucketTo)));
  }
  expect(stats.totals, `${query}: totals`).toEqual(await figuresBySql(new Date(from), new Date(to)));
  return stats;
}

/**
 * The ranges a test of 2011 checks after each write: by day, by hour, and one not on the hour.
 * Returns the totals by day.
 */
async function expectExact2011() {
  await expectExact("from=2011-03-02T06:00:00Z&to=2011-03-02T18:00:00Z&bucket=hour");
  await expectExact("from=2011-03-01T09:07:00Z&to=2011-03-02T15:30:00Z");
  return (await expectExact("from=2011-03-01&to=2011-03-04")).totals;
}

describe("the statistics' hourly rollups", () => {
  // Each read folds the hours written since the one before, and each write below changes what an
  // hour already folded holds: a write that marked no hour would leave its read stale.
  it("are exact in a read right after each kind of write, with no Cron run between", async () => {
    const sql = openSql();
    const reader = await seedReader(sql);
    const day = (n: number, hour: number, minute = 0) => inYear(2011, 3, n, hour, minute);
    const waiting = await seedConversation(sql, {
      createdAt: day(1, 9),
      turns: [{ question: "Still waiting?", at: day(1, 9, 10), answer: null }],
    });
    const rated = await seedConversation(sql, {
      createdAt: day(1, 10),
      turns: [
        {
          question: "What is a gait?",
          at: day(1, 10, 5),
          answer: {
            metadata: answered(1234.5, 111),
            sources: [chapter(3)],
            feedback: { rating: "up", at: day(1, 12) },
          },
        },
        {
          question: "And balance?",
          at: day(2, 14, 30),
          answer: { metadata: answered(800, 90), sources: [chapter(4)] },
        },
      ],
    });
    await expectExact2011();

    // An answer arrives the next day: the question's hour has one unanswered question less.
    await sql`
      insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, metadata)
      values (${waiting.sessionId}, 2, 'bot', 'Late', ${day(2, 11)}, ${waiting.messageIds[0]!},
        ${sql.json(answered(2500, 250))})`;
    await expectExact2011();

    // The rating is changed, a day later, from up to down.
    await sql`update chat_messages set feedback_rating = 'down', feedback_at = ${day(2, 15)} where id = ${rated.messageIds[1]!}`;
    await expectExact2011();

    // The anonymous session is claimed by a signed-in reader.
    await sql`update chat_sessions set reader_id = ${reader.id} where id = ${waiting.sessionId}`;
    await expectExact2011();

    // A transcript is imported on the 2nd, then its creation is moved to the 1st.
    const imported = await seedConversation(sql, {
      createdAt: day(2, 8),
      importId: crypto.randomUUID(),
      turns: [
        {
          question: "Asked elsewhere",
          at: day(1, 7),
          questionMetadata: { imported: true },
          answer: { metadata: { imported: true, ...answered(5000, 500) } },
        },
      ],
    });
    await expectExact2011();
    await sql`update chat_sessions set created_at = ${day(1, 23)} where id = ${imported.sessionId}`;
    await expectExact2011();

    // A session is erased (its messages go with it), then, as the retention purge and a reader's
    // erasure do, several sessions in one statement.
    await sql`delete from chat_sessions where id = ${waiting.sessionId}`;
    await expectExact2011();
    await sql`delete from chat_sessions where id in ${sql([rated.sessionId, imported.sessionId])}`;
    const emptied = await expectExact2011();
    expect(emptied).toMatchObject({ questions: 0, sessions: 0, imported_sessions: 0, ratings: { up: 0, down: 0 } });
  }, 120_000);

  it("give percentile_cont's exact p50 and p95 over many values, by day, by hour and for a range not on the hour", async () => {
    const sql = openSql();
    // 3 days of answers, 7 an hour, each a minute after its question: latencies spread over many
    // bins, with repeats and fractions.
    for (let day = 1; day <= 3; day++) {
      const { sessionId } = await seedConversation(sql, { createdAt: inYear(2012, 5, day), turns: [] });
      await sql`
        insert into chat_messages (session_id, seq, sender, message, timestamp)
        select ${sessionId}, 2 * i - 1, 'user', 'Question ' || i, ${inYear(2012, 5, day)}::timestamptz + (i - 1) * interval '8 minutes'
        from generate_series(1, 180) as i`;
      await sql`
        insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, metadata)
        select session_id, seq + 1, 'bot', 'An answer', timestamp + interval '1 minute', id,
          jsonb_build_object('latency_ms', (n * 7919) % 6007 + case when n % 3 = 0 then 0.25 else 0 end,
            'usage', jsonb_build_object('total_tokens', 900 + (n * 31) % 400))
        from (select *, ${day * 1000} + seq as n from chat_messages where session_id = ${sessionId}) as questions`;
    }
    await expectExact("from=2012-05-01&to=2012-05-04");
    await expectExact("from=2012-05-01T18:00:00Z&to=2012-05-02T06:00:00Z&bucket=hour");
    await expectExact("from=2012-05-01T05:17:00Z&to=2012-05-03T20:41:00Z");
    await expectExact("from=2012-05-01T05:17:00Z&to=2012-05-01T16:41:00Z&bucket=hour");
    await expectExact("from=2012-05-02T05:17:00Z&to=2012-05-02T05:49:00Z&bucket=hour");

    // Unrounded, as the statement returns them, against percentile_cont over the rows.
    const query = {
      from: inYear(2012, 5, 1, 3, 30),
      to: inYear(2012, 5, 3, 22),
      bucket: "day" as const,
      topSources: 5,
    };
    const rows = await readStats(recordingDatabase().db, query);
    const [expected] = await sql<{ p50: number; p95: number; t50: number; t95: number }[]>`
      select percentile_cont(0.5) within group (order by (metadata ->> 'latency_ms')::float8) as p50,
        percentile_cont(0.95) within group (order by (metadata ->> 'latency_ms')::float8) as p95,
        percentile_cont(0.5) within group (order by (metadata #>> '{usage,total_tokens}')::float8) as t50,
        percentile_cont(0.95) within group (order by (metadata #>> '{usage,total_tokens}')::float8) as t95
      from chat_messages where sender = 'bot' and timestamp >= ${query.from} and timestamp < ${query.to}`;
    const totals = rows.find((row) => row.bucket === null)!;
    expect([totals.latencyP50, totals.latencyP95, totals.tokensP50, totals.tokensP95]).toEqual([
      expected!.p50,
      expected!.p95,
      expected!.t50,
      expected!.t95,
    ]);
  }, 120_000);

  it("are folded by the Cron Trigger's scheduled handler, every minute", async () => {
    const sql = openSql();
    // Older than any hour another test writes but the retention test's (which purges what is older
    // than 2000-06-01): a run folds at most 240 marked hours, oldest first, and the other test
    // files' hours may be marked meanwhile.
    const hour = inYear(2000, 7, 1, 10);
    await seedConversation(sql, {
      createdAt: hour,
      turns: [{ question: "Folded by the Cron?", at: new Date(hour.getTime() + 60_000) }],
    });
    const rollup = async () => sql`select questions, sessions, complete from stats_hours where hour = ${hour}`;
    // Nothing marks the inserts: the fold's sweep finds them.
    expect(await rollup()).toEqual([]);

    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: statsFoldCron }), env);

    expect(await rollup()).toEqual([{ questions: 1, sessions: 1, complete: 1 }]);
    expect(await sql`select hour from stats_marks where hour = ${hour}`).toEqual([]);
  });

  it("count a turn whose transaction commits after a fold has swept past its message's number", async () => {
    const sql = openSql();
    const late = inYear(2002, 9, 1, 10);
    const early = inYear(2002, 9, 1, 12);
    const questions = async (hour: Date) =>
      (await sql<{ questions: number }[]>`select questions from stats_hours where hour = ${hour}`)[0]?.questions ?? 0;
    let numbered!: () => void;
    const questionNumbered = new Promise<void>((resolve) => (numbered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // A turn as the service writes one: the session first (the transaction's ID), then its first
    // question, numbered but not committed. A session a turn starts is marked by no trigger.
    const slowTurn = sql.begin(async (tx) => {
      const [session] = await tx<{ id: string }[]>`
        insert into chat_sessions (session_uuid, created_at, message_count)
        values (${crypto.randomUUID()}, ${late}, 1) returning id`;
      await tx`insert into chat_messages (session_id, seq, sender, message, timestamp)
        values (${session!.id}, 1, 'user', 'Committed after the fold?', ${late})`;
      numbered();
      await released;
    });
    await questionNumbered;
    // A turn numbered after it commits first, and a fold sweeps past both numbers.
    await seedConversation(sql, {
      createdAt: early,
      turns: [{ question: "Committed first.", at: early, answer: null }],
    });
    await sql`select stats_fold()`;
    expect([await questions(early), await questions(late)]).toEqual([1, 0]);

    release();
    await slowTurn;
    await sql`select stats_fold()`;
    expect(await questions(late)).toBe(1);
    const [hour] = await sql`select sessions, questions, unanswered from stats_hours where hour = ${late}`;
    expect(hour).toEqual({ sessions: 1, questions: 1, unanswered: 1 });
  });

  it("spare the statement any message of a whole hour: only a partial first or last hour reads its rows (EXPLAIN ANALYZE)", async () => {
    const sql = openSql();
    const explained = async (query: StatsQuery) => {
      const { db, sent } = recordingDatabase();
      await readStats(db, query);
      // The fold of the range, then the statistics.
      expect(sent).toHaveLength(2);
      const statement = sent[1]!;
      const [row] = await sql.unsafe(`explain (analyze, format json) ${statement.sql}`, statement.params as never[]);
      const nodes = planNodes((row!["QUERY PLAN"] as { Plan: PlanNode }[])[0]!.Plan);
      const raw = nodes.filter(
        (node) =>
          ["chat_messages", "chat_sessions"].includes(String(node["Relation Name"])) ||
          String(node["Function Name"] ?? "").startsWith("stats_window_"),
      );
      return {
        rawNodes: raw.length,
        rawLoops: raw.reduce((loops, node) => loops + Number(node["Actual Loops"] ?? 0), 0),
        rollupsRead: nodes.some((node) => node["Relation Name"] === "stats_hours"),
      };
    };
    const whole = await explained({ from: inYear(2004, 1, 1), to: inYear(2004, 4, 1), bucket: "day", topSources: 5 });
    expect(whole.rollupsRead).toBe(true);
    expect(whole.rawLoops).toBe(0);
    // Not on the hour: the two slices are computed from their rows.
    const partial = await explained({
      from: inYear(2004, 2, 1, 9, 3),
      to: inYear(2004, 2, 2, 10, 30),
      bucket: "hour",
      topSources: 5,
    });
    expect(partial.rawNodes).toBeGreaterThan(0);
    expect(partial.rawLoops).toBeGreaterThan(0);
  });
});

/** Every node of an EXPLAIN (FORMAT JSON) plan, the CTEs and subplans included. */
type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };
function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}
