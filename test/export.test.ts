// GET /api/sessions/{uuid}/export (docs/api.md §16): the whole conversation as a JSON or Markdown
// download, streamed a page at a time, and importable back. Calls the Worker's fetch handler.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { HistoryPage, Message, SessionExport, SessionSummary } from "../src/client";
import { createDatabase } from "../src/db/client";
import { findSession } from "../src/db/queries";
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
    const utc = (iso: string) => `${iso.slice(0, 19).replace("T", " ")} UTC`;
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
        "The **zero moment point** is where the ground reaction force acts.",
        "",
        "- one",
        "- two",
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
        "> And then?",
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
      const session = (await findSession(db, uuid, null))!;
      const stream = exportStream(
        { db, session, format: "json", retentionDays: null, exportedAt: new Date() },
        () => {},
      );
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
