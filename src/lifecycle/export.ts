/**
 * A whole conversation as a download (GET /api/sessions/{uuid}/export, docs/api.md §16), in JSON
 * or Markdown. It is streamed a page at a time, each page read only when the client has taken the
 * one before: a Worker never holds more than a page of a long session (docs/benchmarks.md
 * measures a 10,000-message export).
 */

import type { Database } from "../db/client";
import type { RetentionDays, SessionAccess } from "../db/fragments";
import { listReaderSessions } from "../db/readers";
import type { ChatSession } from "../db/schema";
import { listMessages, type ShownMessage } from "../db/sessions";
import { ApiError, sessionNotFound } from "../http/problem";
import type { Reader } from "../reader";
import type { ExportFormat } from "../schemas/export";
import { shortSessionId, toExportHead, toMessage } from "../schemas/responses";
import { textStream } from "./text-stream";

/** Messages per query: a few hundred kilobytes of text at most, one round trip each. */
export const exportPageSize = 500;

export type ExportRequest = {
  db: Database;
  /** The session as found when the export began; its message_count bounds the export. */
  session: ChatSession;
  format: ExportFormat;
  /** Who exports: the session is read page by page as this request may read it. */
  access: SessionAccess;
  exportedAt: Date;
};

export const exportMediaTypes: Record<ExportFormat, string> = {
  json: "application/json; charset=utf-8",
  markdown: "text/markdown; charset=utf-8",
};

/** A name for the saved file: the session's short id and the day of the export. */
export function exportFileName({ session, format, exportedAt }: ExportRequest): string {
  const day = exportedAt.toISOString().slice(0, 10);
  return `chat-${shortSessionId(session.sessionUuid)}-${day}.${format === "json" ? "json" : "md"}`;
}

/**
 * The export's bytes. `onError` hears of a failure after the response has begun (the database,
 * or the session deleted meanwhile); the stream then errors, so the client sees a broken download
 * rather than a file that looks whole.
 */
export function exportStream(request: ExportRequest, onError: (error: unknown) => void): ReadableStream<Uint8Array> {
  return textStream(exportChunks(request), onError);
}

/** How many of a reader's sessions are listed per query while their export runs. */
const readerExportPageSize = 50;

export type ReaderExportRequest = {
  db: Database;
  reader: Reader;
  retentionDays: RetentionDays;
  exportedAt: Date;
};

/**
 * All of a signed-in reader's conversations (GET /api/me/export, docs/api.md §17) as one JSON
 * document, `{"exported_at", "sessions": [...]}`, each session in the form of its own JSON export
 * (and so importable on its own). Streamed like it: a page of sessions, then each session a page
 * of messages at a time; a session deleted meanwhile is left out.
 */
export function readerExportStream(
  request: ReaderExportRequest,
  onError: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  return textStream(readerExportChunks(request), onError);
}

async function* readerExportChunks({ db, reader, retentionDays, exportedAt }: ReaderExportRequest) {
  yield `{"exported_at":${JSON.stringify(exportedAt.toISOString())},"sessions":[`;
  const access = { retentionDays, reader };
  let after: { activity: Date; id: number } | null = null;
  let written = 0;
  for (;;) {
    const rows = await listReaderSessions(db, { reader, retentionDays, after, limit: readerExportPageSize });
    for (const { session } of rows) {
      let started = false;
      try {
        for await (const chunk of exportChunks({ db, session, format: "json", access, exportedAt })) {
          yield (!started && written > 0 ? "," : "") + chunk;
          started = true;
        }
      } catch (error) {
        // Gone (deleted, expired) before any of it was written: left out. Once begun, the export
        // breaks, as a session's own does.
        if (!started && error instanceof ApiError && error.code === "session_not_found") continue;
        throw error;
      }
      written++;
    }
    const last = rows.at(-1);
    if (!last || rows.length < readerExportPageSize) break;
    after = { activity: last.session.lastMessageAt ?? last.session.createdAt, id: last.session.id };
  }
  yield "]}\n";
}

type Writer = {
  head(firstMessage: ShownMessage | undefined): string;
  page(messages: ShownMessage[], first: boolean): string;
  tail(): string;
};

/** The export in pieces: the head with the first page, then a page at a time, then the tail. */
async function* exportChunks(request: ExportRequest): AsyncGenerator<string> {
  const { db, session } = request;
  const writer = request.format === "json" ? jsonWriter(request) : markdownWriter(request);
  let afterSeq = 0;
  let first = true;
  // Messages appended while the export runs are left out: it is the conversation as it began.
  while (first || afterSeq < session.messageCount) {
    const page =
      session.messageCount === 0
        ? []
        : await listMessages(db, {
            sessionUuid: session.sessionUuid,
            order: "asc",
            afterSeq,
            limit: exportPageSize,
            access: request.access,
          });
    // Deleted, or expired, since the export began.
    if (!page) throw sessionNotFound();
    const messages = page.slice(0, exportPageSize).filter((message) => message.seq <= session.messageCount);
    yield (first ? writer.head(messages[0]) : "") + writer.page(messages, first);
    first = false;
    if (messages.length === 0) break;
    afterSeq = messages.at(-1)!.seq;
  }
  yield writer.tail();
}

/** JSON: the head's members, then `"messages": [` and the messages as they come. */
function jsonWriter({ session, exportedAt }: ExportRequest): Writer {
  return {
    head: () => `${JSON.stringify(toExportHead(session, exportedAt)).slice(0, -1)},"messages":[`,
    page: (messages, first) => (first ? "" : ",") + messages.map((m) => JSON.stringify(toMessage(m))).join(","),
    tail: () => "]}\n",
  };
}

/**
 * Markdown that reads well as a file and rendered: a title and the session's dates, then each
 * question (quoted) and answer under a heading with its time in UTC, an answer's sources as a
 * numbered list of links under it and the reader's feedback after them.
 *
 * Every stored text (questions, answers, comments, sources' titles and snippets) is written so
 * that it renders as the characters it holds and never as structure: a question holding
 * `<img onerror=…>`, `[x](javascript:…)` or a line `### Answer · …` shows those characters, so
 * the headings are the export's own. An answer's own Markdown shows as written, asterisks and
 * all: it is the model's text, and no rule could tell its formatting from a forged heading.
 */
function markdownWriter({ session, exportedAt }: ExportRequest): Writer {
  let questions = 0;
  const message = (m: ShownMessage) => {
    if (m.sender === "user") {
      questions += 1;
      return `---\n\n### Question ${questions} · ${utc(m.timestamp)}\n\n${quoted(m.message)}\n\n`;
    }
    const cut = m.status === "incomplete" ? " (cut short)" : "";
    const answer = markdownText(m.message).join("\n");
    return `### Answer${cut} · ${utc(m.timestamp)}\n\n${answer}\n\n${sourcesList(m)}${feedbackNote(m)}`;
  };
  return {
    head: (first) => {
      // The first question's first line, cut to 80 characters (code points, so no emoji is split).
      const firstLine = first ? [...first.message.trim().split(/\r\n?|\n/)[0]!] : [];
      const title = firstLine.length > 80 ? `${firstLine.slice(0, 79).join("")}…` : firstLine.join("");
      const lines = [
        `# ${title ? markdownLine(title) : "Conversation"}`,
        "",
        `- Session: \`${shortSessionId(session.sessionUuid)}\` (the first characters of its id)`,
        // An imported conversation began long before its session: both are shown.
        `- First message: ${first ? utc(first.timestamp) : "none"}`,
        `- Session created: ${utc(session.createdAt)}`,
        `- Last activity: ${utc(session.lastMessageAt ?? session.createdAt)}`,
        `- Messages: ${session.messageCount}`,
        `- Exported: ${utc(exportedAt)}`,
        "",
        "",
      ];
      return lines.join("\n");
    },
    page: (messages) => messages.map(message).join(""),
    tail: () => (session.messageCount === 0 ? "_This conversation has no messages._\n" : "---\n"),
  };
}

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function quoted(text: string): string {
  return markdownText(text)
    .map((line) => (line ? `> ${line}` : ">"))
    .join("\n");
}

/**
 * What starts Markdown or HTML anywhere in a line: emphasis, code, links and images, HTML and
 * autolinks, character references, headings' closing marks, tables, strikethrough and (GitHub)
 * math. A backslash before any of them makes it the character itself (CommonMark §2.4).
 */
const markdownAnywhere = /[\\`*_[\]<>&#|~$]/g;
/** What starts a block only at the beginning of a line: a list, or a heading's underline. */
const markdownLineStart = /^(?:[-+=]|(\d+)([.)]))/;

/** One line of stored text, with whitespace inside it as it is, as Markdown that shows it. */
function markdownLine(line: string): string {
  return line
    .replace(markdownAnywhere, "\\$&")
    .replace(markdownLineStart, (marker, digits?: string, dot?: string) =>
      digits ? `${digits}\\${dot}` : `\\${marker}`,
    );
}

/**
 * A stored text as lines of Markdown that show it as it was written: each line escaped
 * (markdownLine), its line breaks kept as hard breaks (a backslash at the end of the line), blank
 * lines as paragraph breaks, and its indentation as no-break spaces, which Markdown neither
 * strips nor reads as an indented code block.
 */
function markdownText(text: string): string[] {
  const lines = text
    .trimEnd()
    .split(/\r\n?|\n/)
    .map((line) => line.trimEnd());
  return lines.map((line, index) => {
    if (!line) return "";
    const indent = /^[ \t]*/.exec(line)![0];
    const shown = "\u00a0".repeat(indent.replaceAll("\t", "    ").length) + markdownLine(line.slice(indent.length));
    return lines[index + 1] ? `${shown}\\` : shown;
  });
}

/**
 * A source as a list item: its title, linked when its URL is http(s). The URL goes in pointy
 * brackets, with what could end them or escape their end percent-encoded (`<`, `>`, `\`) and `&`
 * backslash-escaped so that no character reference is read in it: no URL breaks its link.
 */
function sourcesList(m: ShownMessage): string {
  if (m.sources.length === 0) return "";
  const items = m.sources.map((source, index) => {
    const title = markdownLine(source.title.trim().replace(/\s+/g, " ") || "Untitled");
    const linked =
      source.url && /^https?:\/\/\S+$/i.test(source.url)
        ? `[${title}](<${source.url.replace(/[<>\\]/g, encodeURIComponent).replaceAll("&", "\\&")}>)`
        : title;
    const snippet = source.snippet.trim().replace(/\s+/g, " ");
    return `${index + 1}. ${linked}${snippet ? ` — ${markdownLine(snippet)}` : ""}`;
  });
  return `**Sources**\n\n${items.join("\n")}\n\n`;
}

/** The reader's rating of an answer, and their comment quoted under it. */
function feedbackNote(m: ShownMessage): string {
  if (m.feedbackRating === null || m.feedbackAt === null) return "";
  const line = `**Feedback:** rated ${m.feedbackRating} · ${utc(m.feedbackAt)}\n\n`;
  return m.feedbackComment === null ? line : `${line}${quoted(m.feedbackComment)}\n\n`;
}
