// The cited sources (docs/api.md §13.10): how many answers of a period cite each source, counted
// from the hourly rollups and checked against SQL of the test's own over chat_messages (so the
// rollups are checked too), in conversations written into 2014 (a year no other test touches).
// Calls the Worker's fetch handler with the admin token.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createApp } from "../src/app";
import type { Source } from "../src/conversation";
import { adminToken, callAdmin, readAdmin } from "./helpers/admin";
import { openSql } from "./helpers/database";
import { callApp, expectProblem } from "./helpers/http";
import { inYear, seedConversation } from "./helpers/seed";
import { newKey, ragEnv, recordedRequests, type Scenario, setScenario } from "./helpers/upstream";

type CitedSource = { title: string | null; url: string | null; answers: number };
type Page = { from: string; to: string; sources: CitedSource[]; next_cursor: string | null };

const source = (title: string | null, url: string | null): Source =>
  ({ title, url, snippet: "…", score: 0.8 }) as unknown as Source;
const ch1 = source("Chapter 1", "https://book.example/ch1");
const ch2 = source("Chapter 2", "https://book.example/ch2");
const ch2Elsewhere = source("Chapter 2", "https://mirror.example/ch2");
const untitled = source(null, "https://book.example/untitled");

beforeAll(async () => {
  const sql = openSql();
  await seedConversation(sql, {
    createdAt: inYear(2014, 3, 1, 9),
    turns: [
      { question: "One", at: inYear(2014, 3, 1, 9, 1), answer: { sources: [ch1, ch2] } },
      // An answer citing one source twice (two passages of it) counts once for it.
      { question: "Two", at: inYear(2014, 3, 1, 10, 1), answer: { sources: [ch1, ch1, ch2Elsewhere] } },
      { question: "Three", at: inYear(2014, 3, 2, 11, 1), answer: { sources: [ch1, untitled] } },
      { question: "No sources", at: inYear(2014, 3, 2, 12, 1), answer: { sources: [] } },
    ],
  });
  // Imported answers are left out, as in the statistics.
  await seedConversation(sql, {
    createdAt: inYear(2014, 3, 3, 10),
    importId: crypto.randomUUID(),
    turns: [
      {
        question: "Imported",
        at: inYear(2014, 3, 3, 10, 1),
        questionMetadata: { imported: true },
        answer: { sources: [ch2], metadata: { imported: true } },
      },
    ],
  });
  // Three sources with titles of about 400 KB: a page of them stops before 1 MiB.
  await seedConversation(sql, {
    createdAt: inYear(2014, 6, 1, 9),
    turns: [
      {
        question: "Long titles",
        at: inYear(2014, 6, 1, 9, 1),
        answer: { sources: ["a", "b", "c"].map((letter) => source(`${letter} ${"x".repeat(400_000)}`, null)) },
      },
    ],
  });
});

/** The period's sources as SQL of the test's own counts them over chat_messages. */
async function sourcesBySql(from: Date, to: Date): Promise<CitedSource[]> {
  const sql = openSql();
  const rows = await sql<{ title: string | null; url: string | null; answers: string }[]>`
    select s ->> 'title' as title, s ->> 'url' as url, count(distinct m.id) as answers
    from chat_messages m cross join jsonb_array_elements(m.sources) as s
    where m.sender = 'bot' and m.timestamp >= ${from} and m.timestamp < ${to}
      and not coalesce((m.metadata ->> 'imported')::boolean, false)
    group by 1, 2`;
  return rows.map((row) => ({ title: row.title, url: row.url, answers: Number(row.answers) }));
}

const key = (source: CitedSource) => JSON.stringify([source.title, source.url]);
const byKey = (a: CitedSource, b: CitedSource) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

async function allPages(query: string): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await readAdmin<Page>(
      `/api/admin/sources?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor !== null && pages.length < 100);
  return pages;
}

describe("GET /api/admin/sources", () => {
  it("counts the answers citing each source as SQL over the messages does, most cited first", async () => {
    for (const [from, to] of [
      ["2014-03-01", "2014-03-04"],
      ["2014-03-01T10:00:00Z", "2014-03-02T12:00:00Z"],
      ["2014-03-02T12:00:00Z", "2014-05-01"],
    ] as const) {
      const page = await readAdmin<Page>(`/api/admin/sources?from=${from}&to=${to}`);
      expect([...page.sources].sort(byKey), `${from} to ${to}`).toEqual(
        (await sourcesBySql(new Date(from), new Date(to))).sort(byKey),
      );
      const counts = page.sources.map((cited) => cited.answers);
      expect(counts).toEqual([...counts].sort((a, b) => b - a));
    }
  });

  it("tells sources apart by title and url, a missing title included, and orders ties by title", async () => {
    const page = await readAdmin<Page>("/api/admin/sources?from=2014-03-01&to=2014-03-04");
    expect(page).toEqual({
      from: "2014-03-01T00:00:00.000Z",
      to: "2014-03-04T00:00:00.000Z",
      sources: [
        { title: "Chapter 1", url: "https://book.example/ch1", answers: 3 },
        { title: "Chapter 2", url: "https://book.example/ch2", answers: 1 },
        { title: "Chapter 2", url: "https://mirror.example/ch2", answers: 1 },
        { title: null, url: "https://book.example/untitled", answers: 1 },
      ],
      next_cursor: null,
    });
  });

  it("pages through the list with its cursor, each source once, in the same order", async () => {
    const whole = await readAdmin<Page>("/api/admin/sources?from=2014-03-01&to=2014-05-01");
    const pages = await allPages("from=2014-03-01&to=2014-05-01&limit=1");
    expect(pages.map((page) => page.sources.length)).toEqual(whole.sources.map(() => 1));
    expect(pages.flatMap((page) => page.sources)).toEqual(whole.sources);
  });

  it("stops a page before 1 MiB, always holding one source", async () => {
    const pages = await allPages("from=2014-06-01&to=2014-06-02");
    expect(pages.map((page) => page.sources.map((cited) => cited.title?.[0]))).toEqual([["a", "b"], ["c"]]);
    const response = await callAdmin("/api/admin/sources?from=2014-06-01&to=2014-06-02");
    expect((await response.arrayBuffer()).byteLength).toBeLessThan(1_048_576 + 1024);
  });

  it("refuses a period not of whole hours, the wrong way round or over a year, and a cursor it did not issue", async () => {
    const questionsCursor = btoa(`v1:q:1:${"0".repeat(32)}:what`).replace(/=+$/, "");
    for (const [query, parameter] of [
      ["from=2014-03-01T09:30:00Z&to=2014-03-02", "from"],
      ["to=2014-03-02T00:00:00.5Z&from=2014-03-01", "to"],
      ["from=2014-03-02&to=2014-03-01", "to"],
      ["from=2013-01-01&to=2014-03-01", "from"],
      ["limit=201", "limit"],
      ["cursor=nonsense", "cursor"],
      [`cursor=${questionsCursor}`, "cursor"],
    ] as const) {
      const problem = await expectProblem(await callAdmin(`/api/admin/sources?${query}`), 400, "validation_error");
      expect(
        problem.errors?.map((error) => error.path),
        query,
      ).toContain(parameter);
    }
  });
});

type UncitedPage = {
  from: string;
  to: string;
  collection: string | null;
  looked_at: number;
  passages: { id: number | string; title: string; url: string | null }[];
  next_cursor: string | null;
};

const upstream = inject("fakeUpstreamUrl");
const uuidPoint = "5f0c7d3e-9a4b-4c1d-8e2f-0a1b2c3d4e5f";
const point = (id: number | string, payload: Record<string, unknown>) => ({
  id,
  score: 0,
  payload: { text: "…", ...payload },
});
/** The collection: two passages of cited chapters, and passages no answer of March 2014 cites. */
const collection = [
  point(1, { title: "Chapter 1", url: "https://book.example/ch1" }),
  point(2, { title: "Chapter 1", url: "https://book.example/ch1" }),
  point(3, { title: "Chapter 4", url: "https://book.example/ch4" }),
  point(4, { title: "Chapter 2", url: "https://book.example/ch2" }),
  // Stored as an answer would store it: no title is "Untitled passage", a link other than http(s) null.
  point(7, { url: "javascript:alert(1)" }),
  point(9, { title: "Chapter 5", url: null }),
  // Qdrant lists integer ids first, then UUIDs.
  point(uuidPoint, { title: "Chapter 2", url: "https://mirror.example/ch2" }),
];

async function readUncited(key: string, query: string) {
  return callApp(
    createApp(),
    `/api/admin/sources/uncited?${query}`,
    { headers: { Authorization: `Bearer ${adminToken}` } },
    ragEnv(key),
  );
}

async function withCollection(scenario: Scenario["qdrant"]): Promise<string> {
  const key = newKey();
  await setScenario(upstream, key, { qdrant: scenario });
  return key;
}

/** A CSV body as text, its byte order mark kept (Response.text() takes it off). */
const withMark = (body: ArrayBuffer) => new TextDecoder("utf-8", { ignoreBOM: true, fatal: false }).decode(body);

describe("GET /api/admin/sources/uncited", () => {
  it("lists, a page of the collection at a time, the passages whose source no answer of the period cites", async () => {
    const key = await withCollection({ collection: "humanoid-book", points: collection });
    const pages: UncitedPage[] = [];
    let cursor: string | null = null;
    do {
      const { response } = await readUncited(
        key,
        `from=2014-03-01&to=2014-03-04&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      const text = await response.text();
      expect(response.status, text).toBe(200);
      const page = JSON.parse(text) as UncitedPage;
      pages.push(page);
      cursor = page.next_cursor;
    } while (cursor !== null && pages.length < 10);
    expect(pages.map((page) => [page.looked_at, page.passages.map((passage) => passage.id)])).toEqual([
      [2, []],
      [2, [3]],
      [2, [7, 9]],
      [1, []],
    ]);
    expect(pages.flatMap((page) => page.passages)).toEqual([
      { id: 3, title: "Chapter 4", url: "https://book.example/ch4" },
      { id: 7, title: "Untitled passage", url: null },
      { id: 9, title: "Chapter 5", url: null },
    ]);
    expect(pages[0]).toMatchObject({ collection: "humanoid-book", from: "2014-03-01T00:00:00.000Z" });
    // Only the two payload keys, no vectors; each page from where the last one stopped.
    const sent = (await recordedRequests(upstream, key)).map((request) => request.body);
    expect(sent[0]).toEqual({ limit: 2, with_payload: ["title", "url"], with_vector: false });
    expect(sent.slice(1).map((body) => body.offset)).toEqual([3, 7, uuidPoint]);
  });

  it("takes a source cited outside the period as never cited in it", async () => {
    const key = await withCollection({ collection: "humanoid-book", points: collection });
    const { response } = await readUncited(key, "from=2014-05-01&to=2014-05-02&limit=100");
    const page = (await response.json()) as UncitedPage;
    expect(page.passages.map((passage) => passage.id)).toEqual(collection.map((passage) => passage.id));
    expect(page.next_cursor).toBeNull();
  });

  it.each([
    ["answers HTTP 500", { status: 500 }],
    ["closes the connection", { destroy: true }],
    ["answers without a list of points", { body: '{"result":{}}' }],
    ["answers malformed JSON", { body: "not json{" }],
    ["has no such collection", { collection: "another-book" }],
  ])("answers 503 retrieval_unavailable with Retry-After when Qdrant %s", async (_, failure) => {
    const key = await withCollection({ points: collection, ...failure });
    const { response } = await readUncited(key, "from=2014-03-01&to=2014-03-04");
    await expectProblem(response, 503, "retrieval_unavailable");
    expect(response.headers.get("Retry-After")).toBe("30");
  });

  it("lists nothing, and says so, while no Qdrant is configured", async () => {
    const page = await readAdmin<UncitedPage>("/api/admin/sources/uncited?from=2014-03-01&to=2014-03-04");
    expect(page).toEqual({
      from: "2014-03-01T00:00:00.000Z",
      to: "2014-03-04T00:00:00.000Z",
      collection: null,
      looked_at: 0,
      passages: [],
      next_cursor: null,
    });
  });

  it("downloads as CSV: every passage never cited, a scroll of the collection a page, 40 pages at most", async () => {
    const download = (key: string, query: string) =>
      callApp(
        createApp(),
        `/api/admin/sources/uncited.csv?${query}`,
        { headers: { Authorization: `Bearer ${adminToken}` } },
        ragEnv(key),
      );
    const csvOf = async (key: string, query: string) => {
      const { response } = await download(key, query);
      return { response, text: withMark(await response.arrayBuffer()) };
    };
    const key = await withCollection({ collection: "humanoid-book", points: collection });
    const { response, text } = await csvOf(key, "from=2014-03-01&to=2014-03-04&limit=2");
    expect(response.status, text).toBe(200);
    expect(response.headers.get("Content-Disposition")).toMatch(
      /^attachment; filename="uncited-passages-\d{8}T\d{6}Z\.csv"$/,
    );
    // The same passages as the JSON pages; `limit` has no effect: one scroll of 1,000 points.
    expect(text).toBe(
      "\uFEFFid,title,url\r\n3,Chapter 4,https://book.example/ch4\r\n7,Untitled passage,\r\n9,Chapter 5,\r\n",
    );
    expect((await recordedRequests(upstream, key)).map((request) => request.body.limit)).toEqual([1000]);

    // 40,001 points, none cited: 40 scrolls, then the line that says where the same request goes on.
    const many = Array.from({ length: 40_001 }, (_, index) => point(index + 1, { title: `Passage ${index + 1}` }));
    const manyKey = await withCollection({ collection: "humanoid-book", points: many });
    const cut = await csvOf(manyKey, "from=2014-05-01&to=2014-05-02");
    const lines = cut.text.split("\r\n");
    expect(lines).toHaveLength(1 + 40_000 + 1 + 1);
    expect(lines[40_000]).toBe("40000,Passage 40000,");
    const [marker, rows, cursor] = lines[40_001]!.split(",");
    expect([marker, rows]).toEqual(["#cut", "40000"]);
    const rest = await csvOf(manyKey, `from=2014-05-01&to=2014-05-02&cursor=${cursor}`);
    expect(rest.text).toBe("\uFEFFid,title,url\r\n40001,Passage 40001,\r\n");

    // Qdrant failing on the first page is the request's problem; no Qdrant, no passages.
    const broken = await withCollection({ points: collection, status: 500 });
    await expectProblem(
      (await download(broken, "from=2014-03-01&to=2014-03-04")).response,
      503,
      "retrieval_unavailable",
    );
    const unconfigured = await callAdmin("/api/admin/sources/uncited.csv?from=2014-03-01&to=2014-03-04");
    expect(withMark(await unconfigured.arrayBuffer())).toBe("\uFEFFid,title,url\r\n");
  }, 60_000);

  it.each([
    ["a cursor it did not issue", "cursor=zzz", "cursor"],
    ["a ranked list's cursor", `cursor=${btoa(`v1:c:1:${"0".repeat(32)}:x`).replace(/=+$/, "")}`, "cursor"],
    ["more than 1000 points", "limit=1001", "limit"],
    ["a time not on the hour", "from=2014-03-01T00:00:01Z", "from"],
  ])("answers 400 validation_error for %s", async (_, query, path) => {
    const problem = await expectProblem(
      await callAdmin(`/api/admin/sources/uncited?${query}`),
      400,
      "validation_error",
    );
    expect(problem.errors?.map((error) => error.path)).toEqual([path]);
  });
});
