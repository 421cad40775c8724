// The frequent questions (docs/api.md §13.9): the questions of a period, the same question told
// by normalized_question(), counted from the hourly rollups and checked against SQL of the test's
// own over chat_messages (so the rollups are checked too), in conversations written into 2013 (a
// year no other test touches). Calls the Worker's fetch handler with the admin token.
import type postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { addedUpQuestionsLimit, listFrequentQuestions } from "../src/db/admin-frequent";
import type { FrequentQuestion } from "../src/schemas/responses";
import { callAdmin, readAdmin } from "./helpers/admin";
import { openSql, recordingDatabase } from "./helpers/database";
import { expectProblem } from "./helpers/http";
import { inYear, type SeededTurn, seedConversation } from "./helpers/seed";

type Page = { from: string; to: string; questions: FrequentQuestion[]; next_cursor: string | null };

const rated = (rating: "up" | "down") => ({ feedback: { rating, at: inYear(2013, 3, 5) } });

beforeAll(async () => {
  const sql = openSql();
  const turn = (question: string, at: Date, answer: SeededTurn["answer"] = {}): SeededTurn => ({
    question,
    at,
    answer,
  });
  await seedConversation(sql, {
    createdAt: inYear(2013, 3, 1, 9),
    turns: [
      turn("What is the ZMP?", inYear(2013, 3, 1, 9, 1), rated("up")),
      turn("How do robots walk?", inYear(2013, 3, 1, 9, 2), rated("up")),
      turn("Tie B", inYear(2013, 3, 1, 9, 3)),
    ],
  });
  await seedConversation(sql, {
    createdAt: inYear(2013, 3, 2, 14),
    turns: [
      turn("what is the zmp", inYear(2013, 3, 2, 14, 1), rated("down")),
      turn("  What   is the ZMP ?!", inYear(2013, 3, 2, 15, 1), null),
      turn("how do robots WALK", inYear(2013, 3, 2, 15, 2)),
      turn("Tie A", inYear(2013, 3, 2, 15, 3), rated("down")),
    ],
  });
  // Imported questions are left out, as in the statistics; one asked after the period too.
  await seedConversation(sql, {
    createdAt: inYear(2013, 3, 3, 10),
    importId: crypto.randomUUID(),
    turns: [
      { question: "What is the ZMP?", at: inYear(2013, 3, 3, 10, 1), questionMetadata: { imported: true } },
      turn("Tie A", inYear(2013, 4, 1, 10)),
    ],
  });
  // Three long questions, each with its wording about 400 KB: a page of them stops before 1 MiB.
  await seedConversation(sql, {
    createdAt: inYear(2013, 6, 1, 9),
    turns: ["a", "b", "c"].map((letter, index) =>
      turn(`${letter} ${"x".repeat(200_000)}`, inYear(2013, 6, 1, 9, index)),
    ),
  });
});

/** The period's questions as SQL of the test's own counts them over chat_messages. */
async function questionsBySql(from: Date, to: Date, sql: postgres.Sql = openSql()) {
  const rows = await sql<{ question: string; asked: string; up: string; down: string }[]>`
    select normalized_question(q.message) as question, count(*) as asked,
      count(*) filter (where a.feedback_rating = 'up') as up,
      count(*) filter (where a.feedback_rating = 'down') as down
    from chat_messages q left join chat_messages a on a.reply_to_id = q.id
    where q.sender = 'user' and q.timestamp >= ${from} and q.timestamp < ${to}
      and not coalesce((q.metadata ->> 'imported')::boolean, false)
    group by 1`;
  return rows.map((row) => ({
    question: row.question,
    asked: Number(row.asked),
    ratings: { up: Number(row.up), down: Number(row.down) },
  }));
}

const byQuestion = (a: { question: string }, b: { question: string }) =>
  a.question < b.question ? -1 : a.question > b.question ? 1 : 0;

async function allPages(query: string): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await readAdmin<Page>(
      `/api/admin/frequent-questions?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor !== null && pages.length < 100);
  return pages;
}

describe("GET /api/admin/frequent-questions", () => {
  it("counts each question of the period as SQL over the messages does, most asked first", async () => {
    for (const [from, to] of [
      ["2013-03-01", "2013-03-04"],
      ["2013-03-01T09:00:00Z", "2013-03-02T15:00:00Z"],
      ["2013-03-02T15:00:00Z", "2013-05-01"],
    ] as const) {
      const page = await readAdmin<Page>(`/api/admin/frequent-questions?from=${from}&to=${to}`);
      const expected = await questionsBySql(new Date(from), new Date(to));
      expect(
        page.questions.map(({ question, asked, ratings }) => ({ question, asked, ratings })).sort(byQuestion),
      ).toEqual(expected.sort(byQuestion));
      const counts = page.questions.map((question) => question.asked);
      expect(counts).toEqual([...counts].sort((a, b) => b - a));
    }
  });

  it("tells questions apart by normalized_question, with an example wording, shares of ratings and ties by question", async () => {
    const page = await readAdmin<Page>("/api/admin/frequent-questions?from=2013-03-01&to=2013-03-04");
    expect(page).toMatchObject({ from: "2013-03-01T00:00:00.000Z", to: "2013-03-04T00:00:00.000Z", next_cursor: null });
    expect(page.questions.map(({ example: _, ...question }) => question)).toEqual([
      {
        question: "what is the zmp",
        asked: 3,
        ratings: { up: 1, down: 1 },
        rated_up_share: 0.333,
        rated_down_share: 0.333,
      },
      {
        question: "how do robots walk",
        asked: 2,
        ratings: { up: 1, down: 0 },
        rated_up_share: 0.5,
        rated_down_share: 0,
      },
      { question: "tie a", asked: 1, ratings: { up: 0, down: 1 }, rated_up_share: 0, rated_down_share: 1 },
      { question: "tie b", asked: 1, ratings: { up: 0, down: 0 }, rated_up_share: 0, rated_down_share: 0 },
    ]);
    // The newest wording of the period.
    expect(page.questions[0]!.example).toBe("  What   is the ZMP ?!");
  });

  it("pages through the list with its cursor, each question once, in the same order", async () => {
    const whole = await readAdmin<Page>("/api/admin/frequent-questions?from=2013-03-01&to=2013-05-01");
    const pages = await allPages("from=2013-03-01&to=2013-05-01&limit=1");
    expect(pages.map((page) => page.questions.length)).toEqual(whole.questions.map(() => 1));
    expect(pages.flatMap((page) => page.questions)).toEqual(whole.questions);
  });

  it("stops a page before 1 MiB, always holding one question", async () => {
    const pages = await allPages("from=2013-06-01&to=2013-06-02");
    expect(pages.map((page) => page.questions.map((question) => question.question[0]))).toEqual([["a", "b"], ["c"]]);
    const response = await callAdmin("/api/admin/frequent-questions?from=2013-06-01&to=2013-06-02");
    expect((await response.arrayBuffer()).byteLength).toBeLessThan(1_048_576 + 1024);
  });

  it("refuses a period not of whole hours, the wrong way round or over a year, and a cursor it did not issue", async () => {
    // A cursor of the cited sources' list, as that list writes them (schemas/cursor.ts).
    const sourcesCursor = btoa(`v1:c:1:${"0".repeat(32)}:chapter`).replace(/=+$/, "");
    for (const [query, parameter] of [
      ["from=2013-03-01T09:30:00Z&to=2013-03-02", "from"],
      ["from=2013-03-01&to=2013-03-02T00:00:01Z", "to"],
      ["from=2013-03-02&to=2013-03-01", "to"],
      ["from=2012-01-01&to=2013-03-01", "from"],
      ["limit=0", "limit"],
      ["cursor=nonsense", "cursor"],
      ["cursor=a&cursor=b", "cursor"],
      [`cursor=${sourcesCursor}`, "cursor"],
    ] as const) {
      const problem = await expectProblem(
        await callAdmin(`/api/admin/frequent-questions?${query}`),
        400,
        "validation_error",
      );
      expect(
        problem.errors?.map((error) => error.path),
        query,
      ).toContain(parameter);
    }
  });

  it("refuses a period it does not keep that holds more questions than it adds up, with a 400 naming from", async () => {
    // The statistics' count of an hour of 2001 (no other test writes there), set as a fold of many
    // questions would have left it: the bound reads those counts, not the messages.
    const sql = openSql();
    const hour = inYear(2001, 5, 1, 10);
    const setQuestions = (questions: number) => sql`
      insert into stats_hours (hour, sessions, imported_sessions, imported_messages, questions, complete, incomplete,
        unanswered, cut_short, up, down)
      values (${hour}, 0, 0, 0, ${questions}, 0, 0, ${questions}, 0, 0, 0)
      on conflict (hour) do update set questions = excluded.questions`;
    try {
      await setQuestions(addedUpQuestionsLimit);
      const query = "from=2001-05-01&to=2001-05-02";
      const page = await readAdmin<Page>(`/api/admin/frequent-questions?${query}`);
      expect(page).toMatchObject({ questions: [], next_cursor: null });

      await setQuestions(addedUpQuestionsLimit + 1);
      for (const path of ["/api/admin/frequent-questions", "/api/admin/frequent-questions.csv"]) {
        const problem = await expectProblem(await callAdmin(`${path}?${query}`), 400, "validation_error");
        expect(problem.errors?.map((error) => error.path)).toEqual(["from"]);
        expect(problem.detail).toContain(`${(addedUpQuestionsLimit + 1).toLocaleString("en")} questions`);
      }
    } finally {
      await sql`delete from stats_hours where hour = ${hour}`;
    }
  });

  it("counts a question longer than an index entry holds, and the statistics of its hour", async () => {
    // About 7,000 characters that do not compress to under 2,704 bytes, the most a btree entry of
    // its text would hold: keyed by its text, the hourly rollup refused it, and every fold failed.
    const letters = "abcdefghijklmnopqrstuvwxyz ";
    const question = Array.from(crypto.getRandomValues(new Uint8Array(7000)), (byte) => letters[byte % 27]).join("");
    await seedConversation(openSql(), {
      createdAt: inYear(2013, 8, 1, 9),
      turns: [{ question: `x${question}`, at: inYear(2013, 8, 1, 9, 1) }],
    });
    const page = await readAdmin<Page>("/api/admin/frequent-questions?from=2013-08-01&to=2013-08-02");
    expect(page.questions.map(({ asked, example }) => ({ asked, example }))).toEqual([
      { asked: 1, example: `x${question}` },
    ]);
    const stats = await readAdmin<{ totals: { questions: number } }>("/api/admin/stats?from=2013-08-01&to=2013-08-02");
    expect(stats.totals.questions).toBe(1);
  });

  it("reads the admin page's periods from the questions the fold keeps counted, in the order of their index", async () => {
    const hour = 3_600_000;
    const to = new Date(Math.floor(Date.now() / hour) * hour + hour);
    const periodOf = (days: number) => ({
      from: new Date(to.getTime() - days * 24 * hour),
      to,
      after: null,
      limit: 50,
    });
    for (const [days, kept] of [
      [7, true],
      [30, true],
      [90, true],
      [365, true],
      [29, false],
    ] as const) {
      const { db, sent } = recordingDatabase();
      await listFrequentQuestions(db, periodOf(days));
      expect(
        sent.map(({ sql }) => sql.includes("stats_period_questions")),
        `${days} days`,
      ).toEqual([false, kept]);
      if (!kept) continue;
      // Its plan can read the page's rows off the index in order, with no sort of the period's
      // questions and no grouping. (Sorts are priced out: on the test's few rows a sort is cheaper.
      // The hour may turn between the two statements: then the plan is of a period the fold did not
      // keep, which reads no row but is planned alike.)
      const [read] = sent.slice(1);
      const plan = await openSql().begin(async (tx) => {
        await tx`set local enable_sort = off`;
        return (await tx.unsafe(`explain ${read!.sql}`, read!.params as never[]).values()).join("\n");
      });
      expect(plan).toContain("stats_period_questions_rank_idx");
      expect(plan).not.toMatch(/Sort Key: stats_period_questions|HashAggregate|GroupAggregate/);
    }
  });

  it("gives a kept period's question its count and its newest wording, as the API reads it", async () => {
    const hour = 3_600_000;
    const marker = crypto.randomUUID().replaceAll("-", "");
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * hour);
    await seedConversation(openSql(), {
      createdAt: hoursAgo(3),
      turns: [
        {
          question: `Kept wording ${marker}?`,
          at: hoursAgo(3),
          answer: { feedback: { rating: "up", at: hoursAgo(1) } },
        },
        { question: `kept   WORDING ${marker}`, at: hoursAgo(2) },
      ],
    });
    // The last 7 days up to the end of this hour: what the page asks, a kept period.
    const to = Math.floor(Date.now() / hour) * hour + hour;
    const period = `from=${new Date(to - 7 * 24 * hour).toISOString()}&to=${new Date(to).toISOString()}&limit=200`;
    const questions = (await allPages(period)).flatMap((page) => page.questions);
    expect(questions.filter((question) => question.question === `kept wording ${marker}`)).toEqual([
      {
        question: `kept wording ${marker}`,
        example: `kept   WORDING ${marker}`,
        asked: 2,
        ratings: { up: 1, down: 0 },
        rated_up_share: 0.5,
        rated_down_share: 0,
      },
    ]);
  });

  it("keeps those periods counted as SQL over the messages counts them, as writes change their hours and they move on", async () => {
    const hour = 3_600_000;
    const day = 24 * hour;
    // Periods ending in 2020, a year no other test writes to; in one transaction, rolled back, that
    // holds the fold's lock from its first fold: no other fold moves the periods meanwhile.
    const end = inYear(2020, 6, 1, 12);
    const rolledBack = new Error("rolled back");
    const checked: string[] = [];
    await openSql()
      .begin(async (tx) => {
        const sql = tx as unknown as postgres.Sql;
        const fold = (ends: Date) => sql`select stats_fold(periods_end => ${ends})`;
        const expectKept = async (moment: string) => {
          const periods = await sql<{ days: number; ends: Date }[]>`select days, ends from stats_periods order by days`;
          expect(periods.map((period) => period.days)).toEqual([7, 30, 90, 365]);
          for (const { days, ends } of periods) {
            const kept = await sql<{ question: string; asked: number; up: number; down: number }[]>`
              select question, asked, up, down from stats_period_questions where days = ${days}`;
            const expected = await questionsBySql(new Date(ends.getTime() - days * day), ends, sql);
            expect(
              kept
                .map(({ question, asked, up, down }) => ({ question, asked, ratings: { up, down } }))
                .sort(byQuestion),
              `${days} days, ${moment}`,
            ).toEqual(expected.sort(byQuestion));
          }
          checked.push(moment);
        };
        await fold(end);
        const asked = (question: string, daysBefore: number, answer: SeededTurn["answer"] = {}): SeededTurn => ({
          question,
          at: new Date(end.getTime() - daysBefore * day - 30 * 60_000),
          answer,
        });
        const late = await seedConversation(sql, {
          createdAt: new Date(end.getTime() - 400 * day),
          turns: [
            asked("What is the ZMP?", 2, { feedback: { rating: "up", at: new Date(end.getTime() - day) } }),
            asked("what is the zmp", 5, { feedback: { rating: "down", at: new Date(end.getTime() - 4 * day) } }),
            asked("How do robots walk?", 6.9),
            asked("How do robots walk?", 7.1),
            asked("Why gears?", 29.5, null),
            asked("what is the ZMP", 40),
            asked("Why gears?", 89.9),
            asked("What is the ZMP", 200),
            asked("Why gears?", 364.9),
            asked("Why gears?", 365.1),
          ],
        });
        const gone = await seedConversation(sql, {
          createdAt: new Date(end.getTime() - 3 * day),
          turns: [asked("How do robots walk?", 3), asked("Why gears", 0.5)],
        });
        await fold(end);
        await expectKept("after the writes");

        // A rating given and one taken back, a session deleted, a question asked in an hour already counted.
        await sql`update chat_messages set feedback_rating = 'down', feedback_at = ${new Date(end.getTime() - hour)}
          where reply_to_id = ${late.messageIds[6]!}`;
        await sql`update chat_messages set feedback_rating = null, feedback_at = null where reply_to_id = ${late.messageIds[0]!}`;
        await sql`delete from chat_sessions where id = ${gone.sessionId}`;
        await seedConversation(sql, { createdAt: new Date(end.getTime() - day), turns: [asked("Why gears?", 0.9)] });
        await fold(end);
        await expectKept("after the changes");

        // The periods move on: an hour, three days (the week takes days in and out), ten days (the
        // week is counted again whole, the others move), then back a day (all counted again).
        for (const [moved, moment] of [
          [hour, "an hour on"],
          [3 * day + hour, "three days on"],
          [13 * day + hour, "ten days on"],
          [12 * day, "a day back"],
        ] as const) {
          await fold(new Date(end.getTime() + moved));
          await expectKept(moment);
        }
        const [row] = await sql<{ emptied: number }[]>`
          select count(*)::int as emptied from stats_period_questions where asked = 0`;
        expect(row?.emptied).toBe(0);
        throw rolledBack;
      })
      .catch((error: unknown) => {
        if (error !== rolledBack) throw error;
      });
    expect(checked).toHaveLength(6);
  });
});
