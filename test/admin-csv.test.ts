// The admin lists as CSV downloads (docs/api.md §13.12): each parses back, by a strict RFC 4180
// reader written here, to exactly the rows of its JSON pages, filters and all; quoting, the
// formula guard, the row cap and its #cut line, and a database failure on a later page breaking
// the download. Sessions are written into 2014 to 2016 by SQL, years no other test touches; calls
// the Worker's fetch handler (or an app instance on another database role) with the admin token.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import type { AdminSession, SearchHit } from "../src/schemas/responses";
import { adminToken, callAdmin, readAdmin } from "./helpers/admin";
import { openSql } from "./helpers/database";
import { callApp, expectProblem } from "./helpers/http";
import { inYear, type SeededReader, seedConversation, seedReader } from "./helpers/seed";

type SessionsPage = { sessions: AdminSession[]; next_cursor: string | null };
type SearchPage = { hits: SearchHit[]; next_cursor: string | null };

/**
 * RFC 4180, strictly: records end in CRLF (the last one too), a field is quoted or holds no
 * quote, CR or LF, a quoted field's quotes are doubled and nothing follows its closing quote but
 * a comma or the record's end. Anything else throws, naming where.
 */
function parseCsv(text: string): string[][] {
  const fieldEnd = /[,\r\n"]/g;
  const records: string[][] = [];
  let record: string[] = [];
  let at = 0;
  for (;;) {
    let field = "";
    if (text[at] === '"') {
      at++;
      for (;;) {
        const quote = text.indexOf('"', at);
        if (quote < 0) throw new Error(`an unclosed quote at ${at}`);
        field += text.slice(at, quote);
        at = quote + 1;
        if (text[at] !== '"') break;
        field += '"';
        at++;
      }
    } else {
      fieldEnd.lastIndex = at;
      const end = fieldEnd.exec(text)?.index ?? text.length;
      field = text.slice(at, end);
      at = end;
      if (text[at] === '"') throw new Error(`a quote inside an unquoted field at ${at}`);
    }
    record.push(field);
    if (text[at] === ",") {
      at++;
      continue;
    }
    if (text.startsWith("\r\n", at)) {
      at += 2;
      records.push(record);
      record = [];
      if (at === text.length) return records;
      continue;
    }
    throw new Error(
      `${at === text.length ? "no CRLF after the last record" : "a bare CR or LF, or text after a quote"} at ${at}`,
    );
  }
}

/** A download's text: it must begin with UTF-8's byte order mark, which it then loses. */
async function csvText(response: Response): Promise<string> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect(response.status, new TextDecoder().decode(bytes)).toBe(200);
  expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
}

/** A text field as it was before the formula guard: one leading apostrophe taken off. */
const unguarded = (field: string) => (field.startsWith("'") ? field.slice(1) : field);

/** The header and the rows of a CSV download, each row's fields unguarded. */
async function readCsv(response: Response): Promise<{ header: string[]; rows: string[][]; cut: string[] | null }> {
  const records = parseCsv(await csvText(response));
  const [header = [], ...rows] = records;
  const cut = rows.at(-1)?.[0] === "#cut" ? rows.pop()! : null;
  for (const row of rows) expect(row).toHaveLength(header.length);
  return { header, rows: rows.map((row) => row.map(unguarded)), cut };
}

/** A JSON row as its CSV row: the value at each header name's path, null empty, the rest as text. */
function asCsvRow(header: string[], row: object): string[] {
  return header.map((name) => {
    const value = name.split(".").reduce<unknown>((inside, key) => (inside as Record<string, unknown>)[key], row);
    expect(typeof value === "object" && value !== null, `${name} is one value`).toBe(false);
    return value === null ? "" : String(value);
  });
}

/** Every row of a JSON list, page after page. */
async function everyJsonRow<Page extends { next_cursor: string | null }, Row>(
  path: string,
  rowsOf: (page: Page) => Row[],
  from: string | null = null,
): Promise<{ rows: Row[]; pages: number }> {
  const rows: Row[] = [];
  let pages = 0;
  for (let cursor: string | null = from; ; ) {
    const page: Page = await readAdmin<Page>(`${path}${cursor ? `&cursor=${cursor}` : ""}`);
    rows.push(...rowsOf(page));
    pages++;
    cursor = page.next_cursor;
    if (cursor === null) return { rows, pages };
  }
}

const sessionsHeader = [
  "session_uuid",
  "created_at",
  "last_activity_at",
  "message_count",
  "title",
  "unanswered_questions",
  "incomplete_answers",
  "ratings.up",
  "ratings.down",
  "imported",
  "reader",
];

/** First questions that a spreadsheet or a careless CSV writer would get wrong. */
const awkwardQuestions = [
  "Commas, like this, everywhere",
  'A "quoted" word',
  "Two\nlines",
  "Windows\r\nline",
  '=HYPERLINK("https://evil.example","click")',
  "+1 what?",
  "-gear and balance",
  "@SUM(A1:A2)",
  "'already quoted",
  "#hashtag",
  "\tstarts with a tab",
  "Роботы и баланс 🤖",
];

/** Sessions without messages, created one minute apart from `start`: a list of some length, cheaply. */
async function insertEmptySessions(sql: ReturnType<typeof openSql>, count: number, start: Date) {
  await sql`
    insert into chat_sessions (session_uuid, created_at, message_count)
    select gen_random_uuid(), ${start}::timestamptz + make_interval(mins => n), 0
    from generate_series(1, ${count}) as n`;
}

const sessionsRange = "from=2014-01-01&to=2015-01-01";
let reader: SeededReader;

beforeAll(async () => {
  const sql = openSql();
  reader = await seedReader(sql);
  await insertEmptySessions(sql, 450, inYear(2014, 2, 1));
  for (const [index, question] of awkwardQuestions.entries()) {
    await seedConversation(sql, {
      createdAt: inYear(2014, 6, 1 + index),
      readerId: index % 2 === 0 ? reader.id : null,
      turns: [
        {
          question,
          at: inYear(2014, 6, 1 + index, 1),
          answer:
            index % 3 === 0
              ? null
              : { feedback: { rating: index % 3 === 1 ? "up" : "down", at: inYear(2014, 6, 1 + index, 2) } },
        },
      ],
    });
  }
});

/**
 * Deletes the sessions created in [from, to) with their messages, 10,000 at a time: one statement
 * for a hundred thousand could pass the database's statement_timeout on a busy machine.
 */
async function deleteSessionsCreated(sql: ReturnType<typeof openSql>, from: string, to: string) {
  for (;;) {
    const deleted = await sql`
      delete from chat_sessions where id in (
        select id from chat_sessions where created_at >= ${from}::timestamptz and created_at < ${to}::timestamptz
        limit 10000)`;
    if (deleted.count === 0) return;
  }
}

afterAll(async () => {
  await deleteSessionsCreated(openSql(), "2014-01-01", "2017-01-01");
}, 120_000);

describe("GET /api/admin/sessions.csv", () => {
  it("parses back to exactly the rows of the JSON list's pages, in order, header first", async () => {
    const json = await everyJsonRow<SessionsPage, AdminSession>(
      `/api/admin/sessions?${sessionsRange}&limit=200`,
      (page) => page.sessions,
    );
    expect(json.pages).toBe(3);
    const csv = await readCsv(await callAdmin(`/api/admin/sessions.csv?${sessionsRange}`));
    expect(csv.header).toEqual(sessionsHeader);
    expect(csv.cut).toBeNull();
    expect(csv.rows).toHaveLength(450 + awkwardQuestions.length);
    expect(csv.rows).toEqual(json.rows.map((session) => asCsvRow(sessionsHeader, session)));
  });

  it.each([
    ["has_failures", "has_failures=true"],
    ["has_negative_feedback", "has_negative_feedback=true"],
    ["min_messages", "min_messages=2"],
    ["reader", "reader=READER"],
  ])("takes the JSON list's filters: %s", async (_, filter) => {
    const query = `${sessionsRange}&${filter.replace("READER", reader.reference)}`;
    const json = await readAdmin<SessionsPage>(`/api/admin/sessions?${query}&limit=200`);
    expect(json.sessions.length).toBeGreaterThan(0);
    expect(json.sessions.length).toBeLessThan(awkwardQuestions.length);
    const csv = await readCsv(await callAdmin(`/api/admin/sessions.csv?${query}`));
    expect(csv.rows).toEqual(json.sessions.map((session) => asCsvRow(sessionsHeader, session)));
  });

  it("starts after a cursor, as the JSON list's next page does", async () => {
    const first = await readAdmin<SessionsPage>(`/api/admin/sessions?${sessionsRange}&limit=100`);
    const rest = await everyJsonRow<SessionsPage, AdminSession>(
      `/api/admin/sessions?${sessionsRange}&limit=200`,
      (page) => page.sessions,
      first.next_cursor,
    );
    const csv = await readCsv(await callAdmin(`/api/admin/sessions.csv?${sessionsRange}&cursor=${first.next_cursor}`));
    expect(csv.rows).toEqual(rest.rows.map((session) => asCsvRow(sessionsHeader, session)));
  });

  it("quotes commas, quotes and line breaks, and guards what a spreadsheet would run as a formula", async () => {
    const response = await callAdmin(`/api/admin/sessions.csv?${sessionsRange}&min_messages=1`);
    const text = await csvText(response.clone());
    for (const encoded of [
      '"Commas, like this, everywhere"',
      '"A ""quoted"" word"',
      '"Two\nlines"',
      '"Windows\r\nline"',
      `"'=HYPERLINK(""https://evil.example"",""click"")"`,
      ",'+1 what?,",
      ",'-gear and balance,",
      ",'@SUM(A1:A2),",
      ",''already quoted,",
      ",'#hashtag,",
      ",'\tstarts with a tab,",
      ",Роботы и баланс 🤖,",
    ]) {
      expect(text).toContain(encoded);
    }
    // No field of a data row begins with a formula's first character.
    const csv = parseCsv(text);
    for (const row of csv.slice(1)) for (const field of row) expect(field).not.toMatch(/^[=+\-@\t\r#]/);
    const titles = (await readCsv(response)).rows.map((row) => row[sessionsHeader.indexOf("title")]);
    expect(titles.sort()).toEqual([...awkwardQuestions].sort());
  });

  it("is an attachment named after the list and the time, never cached", async () => {
    const before = Date.now();
    const response = await callAdmin(`/api/admin/sessions.csv?${sessionsRange}&has_failures=true`);
    await csvText(response.clone());
    expect(response.headers.get("Content-Type")).toBe("text/csv; charset=utf-8; header=present");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const name = /^attachment; filename="sessions-(\d{8}T\d{6})Z\.csv"$/.exec(
      response.headers.get("Content-Disposition") ?? "",
    );
    expect(name).not.toBeNull();
    const [, stamp] = name!;
    const time = Date.parse(stamp!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)$/, "$1-$2-$3T$4:$5:$6Z"));
    expect(time).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it.each([
    ["has_failures=maybe", "has_failures"],
    ["limit=0", "limit"],
    ["cursor=zzz", "cursor"],
    ["from=2014-02-01&to=2014-01-01", "to"],
  ])("refuses %s as the JSON list does: 400 naming it", async (query, path) => {
    for (const route of ["/api/admin/sessions", "/api/admin/sessions.csv"]) {
      const problem = await expectProblem(await callAdmin(`${route}?${query}`), 400, "validation_error");
      expect(problem.errors?.map((error) => error.path)).toEqual([path]);
    }
  });

  it("needs the admin token, as every admin request", async () => {
    await expectProblem(await callAdmin("/api/admin/sessions.csv", {}, `${adminToken}-not`), 401, "unauthorized");
  });

  it("answers 503 when the database fails before the first row, as a JSON list would", async () => {
    const bindings = { HYPERDRIVE: env.UNREACHABLE_HYPERDRIVE } as Partial<Env>;
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { response } = await callApp(
      createApp(),
      `/api/admin/sessions.csv?${sessionsRange}`,
      { headers: { Authorization: `Bearer ${adminToken}` } },
      bindings,
    );
    vi.restoreAllMocks();
    await expectProblem(response, 503, "database_unavailable");
  });
});

describe("a database failure in the middle of an export", () => {
  const role = `csv_export_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const password = crypto.randomUUID();

  beforeAll(async () => {
    const sql = openSql();
    await insertEmptySessions(sql, 8 * 200, inYear(2015, 1, 1));
    await sql.unsafe(`create role ${role} login password '${password}'`);
    await sql.unsafe(`grant select on chat_sessions, chat_messages, readers to ${role}`);
  });

  afterAll(async () => {
    const sql = openSql();
    await sql.unsafe(`revoke all on chat_sessions, chat_messages, readers from ${role}`);
    await sql.unsafe(`drop role ${role}`);
  });

  it("breaks the download on page 7 rather than ending it early, and logs one line that says why", async () => {
    const url = new URL(env.HYPERDRIVE.connectionString);
    url.username = role;
    url.password = password;
    const bindings = { HYPERDRIVE: { connectionString: url.toString() } } as unknown as Partial<Env>;
    const written: string[] = [];
    for (const method of ["error", "warn"] as const) {
      vi.spyOn(console, method).mockImplementation((line: string) => void written.push(line));
    }
    const { response } = await callApp(
      createApp(),
      "/api/admin/sessions.csv?from=2015-01-01&to=2016-01-01",
      { headers: { Authorization: `Bearer ${adminToken}` } },
      bindings,
    );
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    // The header, then pages 1 to 6: page 1 was read before the answer began, each later one
    // when the one before had been taken.
    for (let chunk = 0; chunk < 7; chunk++) text += decoder.decode((await reader.read()).value, { stream: true });
    expect(parseCsv(text)).toHaveLength(1 + 6 * 200);

    await openSql().unsafe(`revoke select on chat_messages from ${role}`);

    await expect(
      (async () => {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {}
      })(),
    ).rejects.toThrow();
    vi.restoreAllMocks();
    expect(written.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ route: "/api/admin/sessions.csv", stream: "error", status: 200 }),
    ]);
  });
});

describe("the row cap", () => {
  it("stops at 100,000 rows with a #cut line whose cursor goes on where it stopped", async () => {
    const sql = openSql();
    // In batches: each statement of the tests' own client has the database's statement_timeout too.
    for (let batch = 0; batch < 5; batch++) {
      await insertEmptySessions(sql, batch < 4 ? 25_000 : 50, inYear(2016, 1 + batch * 2, 1));
    }
    const range = "from=2016-01-01&to=2017-01-01";

    const first = await readCsv(await callAdmin(`/api/admin/sessions.csv?${range}`));
    expect(first.rows).toHaveLength(100_000);
    expect(first.cut).toEqual(["#cut", "100000", expect.stringMatching(/^[A-Za-z0-9_-]+$/)]);
    const rest = await readCsv(await callAdmin(`/api/admin/sessions.csv?${range}&cursor=${first.cut![2]}`));
    expect(rest.cut).toBeNull();
    expect(rest.rows).toHaveLength(50);

    const exported = [...first.rows, ...rest.rows].map((row) => row[0]!);
    const stored = await sql<{ session_uuid: string }[]>`
      select session_uuid from chat_sessions where created_at >= '2016-01-01' and created_at < '2017-01-01'`;
    expect(new Set(exported).size).toBe(100_050);
    expect(new Set(exported)).toEqual(new Set(stored.map((row) => row.session_uuid)));
    await deleteSessionsCreated(sql, "2016-01-01", "2017-01-01");
  }, 300_000);
});

describe("GET /api/admin/search.csv", () => {
  /** A word no other message holds: consonants only, so English stemming leaves it whole. */
  const letters = "bcdfghjklmnpqrstvwxz";
  const word = `xq${[...crypto.getRandomValues(new Uint8Array(10))].map((byte) => letters[byte % letters.length]).join("")}`;
  const searchHeader = ["session_uuid", "message_id", "seq", "sender", "status", "timestamp", "snippet.text"];

  beforeAll(async () => {
    const sql = openSql();
    const turns = Array.from({ length: 130 }, (_, n) => ({
      question: n % 10 === 0 ? `=cmd("${word}", ${n})` : `Question ${n} about the ${word}, "quoted"`,
      at: inYear(2014, 9, 1, 0, n),
      answer: { text: `Answer ${n}: the ${word}\nin two lines` },
    }));
    await seedConversation(sql, { createdAt: inYear(2014, 9, 1), turns });
  });

  it.each([
    ["both senders", ""],
    ["questions", "&sender=user"],
    ["answers", "&sender=bot"],
  ])("parses back to exactly the hits of the JSON pages: %s", async (_, sender) => {
    const json = await everyJsonRow<SearchPage, SearchHit>(
      `/api/admin/search?q=${word}${sender}&limit=100`,
      (page) => page.hits,
    );
    expect(json.rows.length).toBe(sender ? 130 : 260);
    const csv = await readCsv(await callAdmin(`/api/admin/search.csv?q=${word}${sender}`));
    expect(csv.header).toEqual(searchHeader);
    expect(csv.rows).toEqual(json.rows.map((hit) => asCsvRow(searchHeader, hit)));
  });

  it("refuses what the JSON search refuses: 400 naming it", async () => {
    for (const [query, path] of [
      ["", "q"],
      ["q=robot&sender=reader", "sender"],
    ]) {
      const problem = await expectProblem(await callAdmin(`/api/admin/search.csv?${query}`), 400, "validation_error");
      expect(problem.errors?.map((error) => error.path)).toEqual([path]);
    }
  });
});

describe("the views' CSV downloads: content gaps, rated down, frequent questions, sources", () => {
  // 205 turns, each a question of its own, answered from one weak passage of its own and rated
  // down: every list has 205 rows, more than the 200 a download reads per page, so each download
  // goes on with its own list's cursor at least once.
  const turns = 205;
  const gapsPeriod = "from=2006-03-01&to=2006-04-01";
  const wholeYear = "from=2006-01-01&to=2007-01-01";

  beforeAll(async () => {
    const sql = openSql();
    await seedConversation(sql, {
      createdAt: inYear(2006, 3, 1),
      turns: Array.from({ length: turns }, (_, n) => ({
        question: n % 10 === 0 ? `=cmd("view ${n}")` : `View question ${n}, "quoted", with a comma`,
        at: inYear(2006, 3, 1, Math.floor(n / 60), n % 60),
        answer: {
          text: `Answer ${n}`,
          sources: [
            {
              title: `Passage ${n}, part "a"`,
              url: `https://book.example/view/${n}`,
              score: 0.25,
              snippet: "A passage.",
            },
          ],
          metadata: { model: "gpt-test", retrieval: { provider: "qdrant", collection: "book", passages: 1 } },
          feedback: { rating: "down" as const, comment: `-Not it, ${n}`, at: inYear(2006, 3, 2, 0, n % 60) },
        },
      })),
    });
  });

  it.each([
    ["gaps", `/api/admin/gaps?${gapsPeriod}`, "gaps"],
    ["rated-down", `/api/admin/rated-down?${gapsPeriod}`, "answers"],
    ["frequent-questions", `/api/admin/frequent-questions?${wholeYear}`, "questions"],
    ["sources", `/api/admin/sources?${wholeYear}`, "sources"],
  ] as const)("%s.csv parses back to exactly the rows of the JSON pages, in order", async (list, path, key) => {
    const json = await everyJsonRow<{ next_cursor: string | null } & Record<string, unknown>, Record<string, unknown>>(
      `${path}&limit=50`,
      (page) => page[key] as Record<string, unknown>[],
    );
    expect(json.rows).toHaveLength(turns);
    const response = await callAdmin(path.replace(`/${list}?`, `/${list}.csv?`));
    expect(response.headers.get("Content-Disposition")).toMatch(
      new RegExp(`^attachment; filename="${list === "gaps" ? "content-gaps" : list}-\\d{8}T\\d{6}Z\\.csv"$`),
    );
    const csv = await readCsv(response);
    expect(csv.cut).toBeNull();
    // The cited passages are one field of an answer rated down: each `title <url> (score)`.
    const flattened = json.rows.map((row) =>
      key === "answers"
        ? {
            ...row,
            sources: (row.sources as { title: string; url: string; score: number }[])
              .map((source) => `${source.title} <${source.url}> (${source.score})`)
              .join("; "),
          }
        : row,
    );
    expect(csv.rows).toEqual(flattened.map((row) => asCsvRow(csv.header, row)));
  });

  it("refuses what the JSON list refuses: 400 naming it", async () => {
    for (const [path, parameter] of [
      ["/api/admin/gaps.csv?below=2", "below"],
      ["/api/admin/rated-down.csv?cursor=nope", "cursor"],
      ["/api/admin/frequent-questions.csv?from=2006-01-01T00:30:00Z", "from"],
      ["/api/admin/sources.csv?to=2006-01-01&from=2007-01-01", "to"],
    ]) {
      const problem = await expectProblem(await callAdmin(path!), 400, "validation_error");
      expect(problem.errors?.map((error) => error.path)).toEqual([parameter]);
    }
  });
});
