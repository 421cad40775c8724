// GET /api/sessions/{uuid}/export (docs/api.md §16): the whole conversation as a JSON or Markdown
// download, streamed a page at a time, and importable back. Calls the Worker's fetch handler.
import { env } from "cloudflare:workers";
import MarkdownIt from "markdown-it";
import { describe, expect, it, vi } from "vitest";
import type { HistoryPage, Message, SessionExport, SessionSummary } from "../src/client";
import { createDatabase } from "../src/db/client";
import { findSession } from "../src/db/sessions";
import { exportPageSize, exportStream } from "../src/lifecycle/export";
import { openSql, seedSession } from "./helpers/database";
import { ask, call, expectProblem, history } from "./helpers/http";

const transcript = [
  { sender: "user", message: "What is a ZMP?", timestamp: "2026-10-01T09:00:00.000Z" },
  {
    sender: "bot",
    message: "The **zero moment point** is where the ground reaction force acts.\n\n- one\n- two",
    timestamp: "2026-10-01T09:00:02.500Z",
    sources: [
      {
        title: "Chapter 4: Balance [draft]",
        url: "https://book.example/ch4_(zmp)",
        snippet: "The ZMP is…",
        score: 0.82,
      },
      { title: "Notes", url: null, snippet: "", score: 0.5 },
    ],
  },
  { sender: "user", message: "And then?\nTwo lines.", timestamp: "2026-10-01T09:01:10.000Z" },
  { sender: "bot", message: "Step.", timestamp: "2026-10-01T09:01:11.250Z", status: "incomplete" },
];

async function importSession(messages: unknown[] = transcript): Promise<SessionSummary> {
  const response = await call("/api/sessions/import", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ import_id: crypto.randomUUID(), messages }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json();
}

function exportOf(sessionUuid: string, format?: string): Promise<Response> {
  return call(`/api/sessions/${sessionUuid}/export${format ? `?format=${format}` : ""}`);
}

const today = () => new Date().toISOString().slice(0, 10);
const utc = (iso: string) => `${iso.slice(0, 19).replace("T", " ")} UTC`;

/** The export as a reader sees it: rendered as GitHub or a Markdown viewer would, HTML allowed. */
const rendered = (markdown: string) => new MarkdownIt({ html: true, linkify: true }).render(markdown);

/** The text of rendered HTML, as a reader reads it: tags gone, line breaks kept, entities decoded. */
function textOf(html: string): string {
  const entities: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&quot;": '"', "&amp;": "&" };
  return html
    .replace(/<br>\n/g, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(?:lt|gt|quot|amp);/g, (entity) => entities[entity]!)
    .replaceAll("\u00a0", " ")
    .trim();
}

async function giveFeedback(sessionUuid: string, messageId: number, feedback: unknown): Promise<Message> {
  const response = await call(`/api/sessions/${sessionUuid}/messages/${messageId}/feedback`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(feedback),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json();
}

describe("GET /api/sessions/{uuid}/export", () => {
  it("downloads the conversation as JSON by default: an attachment holding every message with its sources", async () => {
    const session = await importSession();
    const response = await exportOf(session.session_uuid);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
    expect(response.headers.get("Content-Disposition")).toBe(
      `attachment; filename="chat-${session.session_uuid.slice(0, 8)}-${today()}.json"`,
    );
    expect(response.headers.get("X-Session-Id")).toBe(session.session_uuid);
    const exported = await response.json<SessionExport>();
    expect(exported).toEqual({
      format: "chat-history-export",
      version: 1,
      exported_at: expect.stringMatching(/Z$/),
      session: {
        short_id: session.session_uuid.slice(0, 8),
        created_at: session.created_at,
        last_message_at: session.last_message_at,
        message_count: 4,
      },
      messages: (await history(session.session_uuid)).messages,
    });
    expect(exported.messages[1]!.sources).toHaveLength(2);
    // The file names no full session UUID: exports get shared, and the UUID opens the session.
    expect(JSON.stringify(exported)).not.toContain(session.session_uuid);
  });

  it("downloads it as Markdown: a title, the session's dates, questions and answers marked, sources as links, UTC", async () => {
    const session = await importSession();
    const response = await exportOf(session.session_uuid, "markdown");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/markdown; charset=utf-8");
    expect(response.headers.get("Content-Disposition")).toBe(
      `attachment; filename="chat-${session.session_uuid.slice(0, 8)}-${today()}.md"`,
    );
    const text = await response.text();
    const exportedLine = text.split("\n").find((line) => line.startsWith("- Exported: "))!;
    expect(exportedLine).toMatch(/^- Exported: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(text).toBe(
      [
        "# What is a ZMP?",
        "",
        `- Session: \`${session.session_uuid.slice(0, 8)}\` (the first characters of its id)`,
        "- First message: 2026-10-01 09:00:00 UTC",
        `- Session created: ${utc(session.created_at)}`,
        `- Last activity: ${utc(session.last_message_at!)}`,
        "- Messages: 4",
        exportedLine,
        "",
        "---",
        "",
        "### Question 1 · 2026-10-01 09:00:00 UTC",
        "",
        "> What is a ZMP?",
        "",
        "### Answer · 2026-10-01 09:00:02 UTC",
        "",
        "The \\*\\*zero moment point\\*\\* is where the ground reaction force acts.",
        "",
        "\\- one\\",
        "\\- two",
        "",
        "**Sources**",
        "",
        "1. [Chapter 4: Balance \\[draft\\]](<https://book.example/ch4_(zmp)>) — The ZMP is…",
        "2. Notes",
        "",
        "---",
        "",
        "### Question 2 · 2026-10-01 09:01:10 UTC",
        "",
        "> And then?\\",
        "> Two lines.",
        "",
        "### Answer (cut short) · 2026-10-01 09:01:11 UTC",
        "",
        "Step.",
        "",
        "---",
        "",
      ].join("\n"),
    );
  });

  it("a JSON export imports back as the same messages", async () => {
    const original = await importSession();
    await ask("A question asked here, answered by the service", { session_uuid: original.session_uuid });
    const exported = await (await exportOf(original.session_uuid)).json<SessionExport>();

    const copy = await importSession(exported.messages);

    const shown = (page: HistoryPage) =>
      page.messages.map(({ seq, sender, message, timestamp, status, sources }) => ({
        seq,
        sender,
        message,
        timestamp,
        status,
        sources,
      }));
    expect(shown(await history(copy.session_uuid))).toEqual(shown(await history(original.session_uuid)));
    expect(copy.message_count).toBe(6);
  });

  it("a JSON export imports back with the readers' feedback: rating, comment and when it was given", async () => {
    const original = await importSession();
    const answers = (await history(original.session_uuid)).messages.filter((m) => m.sender === "bot");
    await giveFeedback(original.session_uuid, answers[0]!.id, { rating: "up", comment: "Clear.\nThanks" });
    await giveFeedback(original.session_uuid, answers[1]!.id, { rating: "down" });
    const exported = await (await exportOf(original.session_uuid)).json<SessionExport>();
    expect(exported.messages.map((m) => m.feedback?.rating ?? null)).toEqual([null, "up", null, "down"]);

    const copy = await importSession(exported.messages);

    const feedback = async (sessionUuid: string) => (await history(sessionUuid)).messages.map((m) => m.feedback);
    expect(await feedback(copy.session_uuid)).toEqual(await feedback(original.session_uuid));
    expect((await feedback(copy.session_uuid))[1]).toEqual({
      rating: "up",
      comment: "Clear.\nThanks",
      updated_at: expect.any(String),
    });
  });

  it("shows the reader's feedback under the answer: the rating, when it was given, and the comment quoted", async () => {
    const session = await importSession();
    const answer = (await history(session.session_uuid)).messages[1]!;
    const rated = await giveFeedback(session.session_uuid, answer.id, {
      rating: "down",
      comment: "Wrong chapter.\nIt is *chapter 3*.",
    });
    const text = await (await exportOf(session.session_uuid, "markdown")).text();
    expect(text).toContain(
      [
        "2. Notes",
        "",
        `**Feedback:** rated down · ${utc(rated.feedback!.updated_at)}`,
        "",
        "> Wrong chapter.\\",
        "> It is \\*chapter 3\\*.",
        "",
        "---",
        "",
        "### Question 2",
      ].join("\n"),
    );
    // The answer nobody rated has none.
    expect(text.match(/\*\*Feedback:\*\*/g)).toHaveLength(1);
  });

  it("writes stored text as text: no HTML, link, image or heading of a question, answer, source or comment renders", async () => {
    const question = [
      "### Answer · 2026-10-01 09:00:02 UTC",
      "<img src=x onerror=alert(1)>",
      "[click](javascript:alert(1)) and ![](https://tracker.example/pixel.png?u=1)",
      "# A heading?",
      "    four spaces, then *stars* and `ticks`",
      "1. not a list",
      "---",
      "&lt;b&gt; &amp; &copy; | a | b | ~~no~~ $x$ \\",
    ].join("\n");
    const answer = [
      "<script>alert(1)</script>",
      "",
      "[x](javascript:alert(1)) ![t](https://tracker.example/a.png)",
      "### Question 9 · forged",
      "```",
      "<img src=y onerror=alert(2)>",
    ].join("\n");
    const session = await importSession([
      { sender: "user", message: question, timestamp: "2026-10-01T09:00:00.000Z" },
      {
        sender: "bot",
        message: answer,
        timestamp: "2026-10-01T09:00:02.500Z",
        sources: [
          {
            title: "<img src=x onerror=alert(3)>\n# Forged",
            url: "https://book.example/ends-with\\",
            snippet: "![](https://tracker.example/s.png) <b>bold</b>",
          },
          { title: "- a list? # no", url: "https://book.example/a>b<c&amp;d)e" },
        ],
      },
    ]);
    // A link that Qdrant may have stored before its URLs were checked.
    await openSql()`
      update chat_messages set sources = sources || '[{"title": "Script", "url": "javascript:alert(4)", "snippet": "", "score": 0}]'::jsonb
      where session_id = (select id from chat_sessions where session_uuid = ${session.session_uuid}) and seq = 2`;
    const answerId = (await history(session.session_uuid)).messages[1]!.id;
    await giveFeedback(session.session_uuid, answerId, { rating: "down", comment: "<img src=z>\n### Answer · forged" });

    const markdown = await (await exportOf(session.session_uuid, "markdown")).text();
    expect(markdown.match(/^#+ .*/gm)).toEqual([
      "# \\#\\#\\# Answer · 2026-10-01 09:00:02 UTC",
      "### Question 1 · 2026-10-01 09:00:00 UTC",
      "### Answer · 2026-10-01 09:00:02 UTC",
    ]);

    const html = rendered(markdown);
    expect(html).not.toMatch(/<img|<script|<b>|<pre|<del|<table|<h[2456]/i);
    // The export's own structure alone: the head's list and short id, the sources' list, two rules.
    expect([/<ul>/g, /<code>/g, /<ol>/g, /<hr>/g].map((element) => html.match(element)?.length)).toEqual([1, 1, 1, 2]);
    expect([...html.matchAll(/<h(\d)>(.*?)<\/h\d>/g)].map(([, level, heading]) => `${level} ${heading}`)).toEqual([
      "1 ### Answer · 2026-10-01 09:00:02 UTC",
      "3 Question 1 · 2026-10-01 09:00:00 UTC",
      "3 Answer · 2026-10-01 09:00:02 UTC",
    ]);
    // Links: the sources' http(s) URLs, each whole, and bare addresses in the text (never images).
    expect([...html.matchAll(/href="([^"]*)"/g)].map(([, href]) => href)).toEqual([
      "https://tracker.example/pixel.png?u=1",
      "https://tracker.example/a.png",
      "https://book.example/ends-with%5C",
      "https://tracker.example/s.png",
      "https://book.example/a%3Eb%3Cc&amp;amp;d)e",
    ]);

    // Each text reads as it was written.
    const quotes = [...html.matchAll(/<blockquote>\n([\s\S]*?)<\/blockquote>/g)].map(([, inner]) => textOf(inner!));
    expect(quotes).toEqual([question, "<img src=z>\n### Answer · forged"]);
    const afterAnswer = html.split("<h3>Answer · 2026-10-01 09:00:02 UTC</h3>\n")[1]!;
    expect(textOf(afterAnswer.split("<p><strong>Sources</strong></p>")[0]!)).toBe(answer.replace("\n\n", "\n"));
    expect(textOf(html.split("<ol>")[1]!.split("</ol>")[0]!).split("\n")).toEqual([
      "<img src=x onerror=alert(3)> # Forged — ![](https://tracker.example/s.png) <b>bold</b>",
      "- a list? # no",
      "Script",
    ]);
  });

  it("exports an empty session as an empty conversation", async () => {
    const created = await call("/api/sessions", { method: "POST" });
    const { session_uuid } = await created.json<{ session_uuid: string }>();
    const exported = await (await exportOf(session_uuid)).json<SessionExport>();
    expect(exported.messages).toEqual([]);
    expect(exported.session.message_count).toBe(0);
    const text = await (await exportOf(session_uuid, "markdown")).text();
    expect(text).toMatch(/^# Conversation\n/);
    expect(text).toMatch(/_This conversation has no messages._\n$/);
  });

  describe("a long conversation", () => {
    it("streams 10,000 messages a page at a time: every message once, in order, in both formats", async () => {
      const { uuid } = await seedSession(openSql(), { lastActivity: new Date(), messages: 10_000 });

      // The stream gives the head and a page at a time, read only when asked for.
      const db = createDatabase(env.HYPERDRIVE.connectionString, 20_000);
      const access = { retentionDays: null, reader: null };
      const session = (await findSession(db, uuid, access))!;
      const stream = exportStream({ db, session, format: "json", access, exportedAt: new Date() }, () => {});
      const pages: string[] = [];
      const decoder = new TextDecoder();
      for await (const chunk of stream) pages.push(decoder.decode(chunk));
      expect(pages.map((page) => page.match(/"seq":/g)?.length ?? 0)).toEqual([...Array(20).fill(exportPageSize), 0]);

      // Over HTTP, the whole download.
      const exported = await (await exportOf(uuid)).json<SessionExport>();
      expect(exported.messages.map((m: Message) => m.seq)).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
      expect(exported.messages[9_999]).toMatchObject({ sender: "bot", message: "Answer 10000" });
      expect(exported.messages[1]!.sources).toEqual([
        { title: "Chapter 1", url: "https://book.example/ch1", snippet: "A passage.", score: 0.5 },
      ]);

      const markdown = await (await exportOf(uuid, "markdown")).text();
      expect(markdown.match(/^### Question \d+ · /gm)).toHaveLength(5_000);
      expect(markdown.match(/^### Answer · /gm)).toHaveLength(5_000);
      expect(markdown).toContain("### Question 5000 · ");
    }, 60_000);

    it("leaves out messages added while it runs: it is the conversation as the export began", async () => {
      const { uuid } = await seedSession(openSql(), { lastActivity: new Date(), messages: 2 * exportPageSize });
      const response = await exportOf(uuid);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader.read()).value, { stream: true });

      await ask("Asked during the export", { session_uuid: uuid });

      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += decoder.decode(chunk.value, { stream: true });
      }
      const exported = JSON.parse(text) as SessionExport;
      expect(exported.session.message_count).toBe(2 * exportPageSize);
      expect(exported.messages).toHaveLength(2 * exportPageSize);
      expect((await history(uuid, "?order=desc&limit=1")).messages[0]!.seq).toBe(2 * exportPageSize + 2);
    });

    it("breaks the download, rather than ending it early, when the session is deleted meanwhile", async () => {
      const { uuid } = await seedSession(openSql(), { lastActivity: new Date(), messages: 3 * exportPageSize });
      const written: string[] = [];
      vi.spyOn(console, "warn").mockImplementation((line: string) => void written.push(line));
      const response = await exportOf(uuid);
      const reader = response.body!.getReader();
      await reader.read();

      expect((await call(`/api/sessions/${uuid}`, { method: "DELETE" })).status).toBe(204);

      await expect(
        (async () => {
          for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {}
        })(),
      ).rejects.toThrow();
      vi.restoreAllMocks();
      // One line that says why, naming the route's pattern, not the session.
      expect(written.map((line) => JSON.parse(line))).toEqual([
        expect.objectContaining({
          route: "/api/sessions/:session_uuid/export",
          stream: "error",
          code: "session_not_found",
        }),
      ]);
      expect(written.join("\n")).not.toContain(uuid);
    });
  });

  it("answers 404 for a session that does not exist and 400 for an unknown format", async () => {
    await expectProblem(await exportOf(crypto.randomUUID()), 404, "session_not_found");
    const { session_uuid } = await importSession();
    const problem = await expectProblem(await exportOf(session_uuid, "pdf"), 400, "validation_error");
    expect(problem.errors).toEqual([{ path: "format", message: 'must be "json" or "markdown"' }]);
  });
});
