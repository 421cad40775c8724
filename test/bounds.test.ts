// The bounds of what a read takes and gives (docs/api.md §1, §5, §13): times a query may name,
// integers in plain digits, and pages of messages bounded in bytes as well as in count. Long
// conversations are written by SQL as the service stores them; calls the Worker's fetch handler.
import { describe, expect, it } from "vitest";
import { maxPageBytes } from "../src/db/pages";
import { pageOf } from "../src/schemas/cursor";
import { callAdmin } from "./helpers/admin";
import { openSql } from "./helpers/database";
import { call, expectProblem } from "./helpers/http";
import { inYear, seedConversation } from "./helpers/seed";

/** base64url of a cursor's text, as the API encodes its cursors. */
function cursorOf(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function expectNamed(response: Response, path: string): Promise<void> {
  const problem = await expectProblem(response, 400, "validation_error");
  expect(problem.errors?.map((error) => error.path)).toEqual([path]);
}

describe("times a query names", () => {
  it.each([
    ["/api/admin/sessions?from=0000-01-01", "from"],
    ["/api/admin/sessions?to=0001-01-01", "to"],
    ["/api/admin/sessions?from=1999-12-31T23:59:59.999Z", "from"],
    ["/api/admin/sessions?to=9999-12-31T23:59:59-01:00", "to"],
    ["/api/admin/stats?to=0001-01-01", "to"],
    ["/api/admin/stats?from=0000-01-01&to=2026-01-01", "from"],
    ["/api/admin/stats?from=1969-12-31&to=2026-01-02", "from"],
    [`/api/admin/sessions?cursor=${cursorOf("v1:s:-999999999999999:1")}`, "cursor"],
    [`/api/admin/sessions?cursor=${cursorOf(`v1:s:${Date.UTC(1999, 11, 31)}:1`)}`, "cursor"],
    [`/api/admin/sessions?cursor=${cursorOf("v1:s:999999999999999:1")}`, "cursor"],
  ])("outside 2000 to 9999 are 400 validation_error naming the parameter: %s", async (path, parameter) => {
    await expectNamed(await callAdmin(path), parameter);
  });

  it("takes the range's ends, and a default start that would fall before 2000 starts at 2000", async () => {
    for (const path of [
      "/api/admin/sessions?from=2000-01-01&to=9999-12-31T23:59:59.999Z",
      `/api/admin/sessions?cursor=${cursorOf(`v1:s:${Date.UTC(2000, 0, 1)}:1`)}`,
    ]) {
      const response = await callAdmin(path);
      expect(response.status, await response.text()).toBe(200);
    }
    const stats = await callAdmin("/api/admin/stats?to=2000-01-11");
    expect(stats.status).toBe(200);
    const body = await stats.json<{ from: string; to: string; buckets: unknown[] }>();
    expect(body).toMatchObject({ from: "2000-01-01T00:00:00.000Z", to: "2000-01-11T00:00:00.000Z" });
    expect(body.buckets).toHaveLength(10);
  });
});

describe("integers a query names", () => {
  const loose = ["0x10", "1e3", "+5", "%205", "%20%205", "5%20", "0b1", "5.0", "1_0", "Infinity"];
  const routes = (session: string) => [
    { path: `/api/sessions/${session}/messages?limit=`, parameter: "limit", admin: false },
    { path: `/api/ui/chat/${session}/messages?limit=`, parameter: "limit", admin: false },
    { path: `/api/admin/sessions/${session}?limit=`, parameter: "limit", admin: true },
    { path: "/api/admin/sessions?limit=", parameter: "limit", admin: true },
    { path: "/api/admin/sessions?min_messages=", parameter: "min_messages", admin: true },
    { path: "/api/admin/search?q=zmp&limit=", parameter: "limit", admin: true },
  ];

  it("are plain decimal digits: hex, exponents, signs, spaces are 400 validation_error naming the parameter", async () => {
    const { sessionUuid } = await seedConversation(openSql(), {
      createdAt: new Date(),
      turns: [{ question: "Digits only?", at: new Date() }],
    });
    for (const { path, parameter, admin } of routes(sessionUuid)) {
      for (const value of loose) {
        const response = await (admin ? callAdmin : call)(`${path}${value}`);
        const problem = await expectProblem(response, 400, "validation_error");
        expect(
          problem.errors?.map((error) => error.path),
          `${path}${value}`,
        ).toEqual([parameter]);
      }
      const plain = await (admin ? callAdmin : call)(`${path}5`);
      expect(plain.status, `${path}5: ${await plain.text()}`).toBe(200);
    }
  });
});

/** A message near the longest an answer may be (32,000 characters): 4 bytes a character. */
const longAnswer = (n: number) => `Answer ${n}: ${"🤖".repeat(31_980)}`;
/** The longest a question may be (8,000 characters). */
const longQuestion = (n: number) => `Question ${n}: ${"🦿".repeat(7_980)}`;
const turns = 16;

/** A session of `turns` turns of long messages, last active now (so that it has not expired). */
async function longSession(): Promise<string> {
  const started = Date.now() - turns * 60_000;
  const { sessionUuid } = await seedConversation(openSql(), {
    createdAt: new Date(started),
    turns: Array.from({ length: turns }, (_, i) => ({
      question: longQuestion(i),
      at: new Date(started + i * 60_000),
      answer: {
        text: longAnswer(i),
        sources: [
          { title: "Chapter 3: Balance", url: "https://book.example/balance", snippet: "The ZMP…", score: 0.8 },
        ],
        metadata: { model: "gpt-test", latency_ms: 900 },
      },
    })),
  });
  return sessionUuid;
}

type Page = { messages: { seq?: number; metadata?: { seq?: number } }[]; next_cursor: string | null };

/**
 * Reads every page of `path` (a query string ends it) in one order, checking that each page's body
 * stays within the bound and that each page but the last is cut by it, not by the limit; the seqs.
 */
async function readPaged(path: string, admin: boolean, order: "asc" | "desc"): Promise<number[]> {
  const seqs: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await (admin ? callAdmin : call)(
      `${path}?limit=1000&order=${order}${cursor ? `&cursor=${cursor}` : ""}`,
    );
    const body = await response.text();
    expect(response.status, body.slice(0, 500)).toBe(200);
    // The body's own size: each long message is about 160 KB, so 1,000 would be far over.
    expect(new TextEncoder().encode(body).length).toBeLessThanOrEqual(maxPageBytes);
    const page = JSON.parse(body) as Page;
    expect(page.messages.length).toBeGreaterThanOrEqual(1);
    seqs.push(...page.messages.map((message) => message.seq ?? message.metadata!.seq!));
    cursor = page.next_cursor;
    pages++;
  } while (cursor);
  expect(pages).toBeGreaterThanOrEqual(3);
  return seqs;
}

const ascending = Array.from({ length: turns * 2 }, (_, i) => i + 1);

describe("pages of long messages", () => {
  it.each([
    ["the history", "/api/sessions/{uuid}/messages", false],
    ["the useChat history", "/api/ui/chat/{uuid}/messages", false],
    ["the admin conversation", "/api/admin/sessions/{uuid}", true],
  ])(
    "%s stops a page before 1 MiB, and next_cursor gives every message once, in order, both ways",
    async (_, route, admin) => {
      const path = route.replace("{uuid}", await longSession());
      expect(await readPaged(path, admin, "asc")).toEqual(ascending);
      expect(await readPaged(path, admin, "desc")).toEqual(ascending.toReversed());
    },
  );

  it("the admin search stops a page of long snippets before 1 MiB, and next_cursor gives every hit once", async () => {
    const word = `boundsprobe${crypto.randomUUID().replace(/[^a-f]/g, "")}`;
    // A run of punctuation is one token to PostgreSQL's parser, so the snippet around a match
    // holds all of it: each snippet is as long as its message.
    const text = (n: number) => `${word} ${n} ${"-".repeat(31_000)} ${word}`;
    const { messageIds } = await seedConversation(openSql(), {
      createdAt: inYear(2007, 1, 1),
      turns: Array.from({ length: 80 }, (_, i) => ({
        question: `${word} question ${i}`,
        at: inYear(2007, 1, 1, 0, i),
        answer: { text: text(i) },
      })),
    });
    const ids: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await callAdmin(`/api/admin/search?q=${word}&limit=100${cursor ? `&cursor=${cursor}` : ""}`);
      const body = await response.text();
      expect(response.status, body.slice(0, 500)).toBe(200);
      expect(new TextEncoder().encode(body).length).toBeLessThanOrEqual(maxPageBytes);
      const page = JSON.parse(body) as { hits: { message_id: number }[]; next_cursor: string | null };
      ids.push(...page.hits.map((hit) => hit.message_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    // 80 snippets of 31 KB: three pages where the limit alone would make one.
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(ids).toEqual(messageIds.toSorted((a, b) => b - a));
  });

  it("a page holds at least one message, however large, and continues after it", () => {
    const rows = [
      { seq: 1, pageBytes: maxPageBytes * 2 },
      { seq: 2, pageBytes: maxPageBytes * 3 },
    ];
    const page = pageOf(rows, 100, (last) => `after ${last.seq}`);
    expect(page).toEqual({ rows: [rows[0]], nextCursor: "after 1" });
    const fits = [
      { seq: 1, pageBytes: 10 },
      { seq: 2, pageBytes: maxPageBytes },
      { seq: 3, pageBytes: maxPageBytes + 1 },
    ];
    expect(pageOf(fits, 100, (last) => `after ${last.seq}`)).toEqual({ rows: fits.slice(0, 2), nextCursor: "after 2" });
    expect(pageOf(fits.slice(0, 2), 100, (last) => `after ${last.seq}`)).toEqual({
      rows: fits.slice(0, 2),
      nextCursor: null,
    });
  });
});
