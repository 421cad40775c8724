/**
 * The payloads the API answers with (docs/api.md §3–§10), and the one mapper from each stored row
 * to its payload. The OpenAPI document is generated from these schemas.
 */
import type { InferUIMessageChunk, UIMessage } from "ai";
import { z } from "zod";
import { feedbackRatings, messageStatuses, type Source, senders } from "../conversation";
import { type AdminSessionRow, matchEnd, matchStart, type SearchHitRow } from "../db/admin";
import type { FrequentQuestionRow } from "../db/admin-frequent";
import type { ContentGapRow } from "../db/admin-gaps";
import type { RatedDownRow } from "../db/admin-rated-down";
import type { CitedSourceRow } from "../db/admin-sources";
import type { StatsQuery, StatsRow } from "../db/admin-stats";
import type { ChatMessage, ChatSession } from "../db/schema";
import type { ShownMessage } from "../db/sessions";
import { problemSchema } from "../http/problem";

const timestamp = z
  .string()
  .meta({ format: "date-time" })
  .describe("RFC 3339 UTC with milliseconds, e.g. 2026-11-23T20:15:08.123Z");
const sessionUuid = z.string().meta({ format: "uuid" }).describe("The session's UUID, lower case");

export const sourceSchema = z.object({
  title: z.string(),
  url: z.string().nullable().describe("An absolute http: or https: link; null when the passage has no such link"),
  snippet: z.string().describe("The passage's first 300 characters"),
  score: z.number().describe("Qdrant's similarity score"),
}) satisfies z.ZodType<Source>;

export const feedbackSchema = z
  .object({
    rating: z.enum(feedbackRatings),
    comment: z.string().nullable(),
    updated_at: timestamp.describe("When it was last given"),
  })
  .describe("A reader's feedback on an answer; given again, it replaces this");

export const messageSchema = z.object({
  id: z.number().int().describe("Unique across the database"),
  seq: z.number().int().min(1).describe("1-based position in the session; never two equal, strictly increasing"),
  sender: z.enum(senders),
  message: z.string(),
  timestamp,
  status: z.enum(messageStatuses).describe('"incomplete": a bot answer whose generation was cut short'),
  client_message_id: z.string().meta({ format: "uuid" }).nullable(),
  sources: z.array(sourceSchema).describe("For bot messages, the passages the answer was grounded on"),
  feedback: feedbackSchema
    .nullable()
    .describe("The reader's rating of an answer; null for questions and unrated answers"),
});

export const chatResponseSchema = z.object({
  session_uuid: sessionUuid,
  answer: z.string().describe("bot_message.message"),
  sources: z.array(sourceSchema).describe("bot_message.sources"),
  user_message: messageSchema,
  bot_message: messageSchema,
});

export const historyPageSchema = z.object({
  session_uuid: sessionUuid,
  messages: z.array(messageSchema),
  next_cursor: z.string().nullable().describe("Pass back as `cursor` for the next page; null at the end"),
});

export const sessionSummarySchema = z.object({
  session_uuid: sessionUuid,
  created_at: timestamp,
  last_message_at: timestamp.nullable(),
  message_count: z.number().int(),
});

export const sessionCreatedSchema = sessionSummarySchema.pick({ session_uuid: true, created_at: true });

/** The first characters of a session UUID: tell exports apart without handing out the session. */
export function shortSessionId(sessionUuid: string): string {
  return sessionUuid.slice(0, 8);
}

/**
 * A session as GET /api/sessions/{uuid}/export?format=json writes it (docs/api.md §16). It leaves
 * out the session UUID, a bearer capability, since exported files get shared; its `messages` are
 * a valid `messages` of POST /api/sessions/import as they are.
 */
export const sessionExportSchema = z.object({
  format: z.literal("chat-history-export"),
  version: z.literal(1),
  exported_at: timestamp,
  session: z.object({
    short_id: z.string().describe("The session UUID's first 8 characters"),
    created_at: timestamp,
    last_message_at: timestamp.nullable(),
    message_count: z.number().int().describe("The messages exported: those the session held when the export began"),
  }),
  messages: z.array(messageSchema),
});

/**
 * GET /health's body: each setting src/config.ts refused, in the words it refused it with (naming
 * the variable, never its value), so that a refused setting is seen before a request finds it;
 * `npm run dev` prints them at start-up.
 */
export const healthSchema = z.object({
  status: z
    .enum(["ok", "degraded"])
    .describe('"degraded": the database answers, but a setting was refused (a *_problem field says which)'),
  database: z.literal("ok"),
  answer_provider: z.string().describe('"echo", "openai-compatible:<model>[+qdrant]" or "unavailable"'),
  answer_problem: z.string().optional().describe("What is wrong with the model configuration"),
  admin_problem: z
    .string()
    .optional()
    .describe("What is wrong with ADMIN_TOKEN; while it is set, the admin API and page answer 404"),
  retention_problem: z
    .string()
    .optional()
    .describe("What is wrong with SESSION_RETENTION_DAYS; while it is set, the hourly purge deletes nothing"),
  auth_problem: z
    .string()
    .optional()
    .describe("What is wrong with the AUTH_* settings; while they are refused, readers' tokens are ignored"),
});

/** The events of a streamed answer (docs/api.md §4.3), each with its `data`. */
export const chatStreamEventSchemas = {
  start: z.object({ session_uuid: sessionUuid, user_message: messageSchema }),
  delta: z.object({ text: z.string().describe("The next piece of the answer") }),
  done: z.object({ bot_message: messageSchema }),
  error: problemSchema,
};

/**
 * The conversation as the AI SDK's UI messages (docs/api.md §12): the history's messages, and
 * the chunks of a streamed answer, for `useChat`. Each passage is a part of its own, with the
 * snippet and score in `providerMetadata.book`, the only extra data the SDK keeps on a source.
 */
const uiSourceExtras = z
  .object({ book: sourceSchema.pick({ snippet: true, score: true }) })
  .describe("The passage's snippet and Qdrant score (§3)");
const uiSourceId = z.string().describe('The number the answer cites the passage by: "1" for [1]');

export const uiSourceUrlSchema = z.object({
  type: z.literal("source-url"),
  sourceId: uiSourceId,
  url: z.string(),
  title: z.string(),
  providerMetadata: uiSourceExtras,
});

/** A passage without a link: the SDK's url source requires one. */
export const uiSourceDocumentSchema = z.object({
  type: z.literal("source-document"),
  sourceId: uiSourceId,
  mediaType: z.literal("text/plain"),
  title: z.string(),
  providerMetadata: uiSourceExtras,
});

/** The stored message a UI message stands for (§3). */
export const uiMessageMetadataSchema = z.object({
  session_uuid: sessionUuid,
  id: messageSchema.shape.id,
  seq: messageSchema.shape.seq,
  timestamp,
  status: messageSchema.shape.status,
});

/** What a streamed answer's `start` chunk says, before the answer is stored. */
export const uiAnswerStartMetadataSchema = z.object({
  session_uuid: sessionUuid,
  new_session: z.boolean().describe("This request started the session: its `id` was absent or named no session"),
  user_message: messageSchema.pick({ id: true, seq: true }).describe("The question, as stored"),
});

export const uiMessageSchema = z.object({
  id: z
    .string()
    .describe(
      "A question's client_message_id (or question-<id> without one); an answer's is answer-<the question's id>",
    ),
  role: z.enum(["user", "assistant"]),
  metadata: uiMessageMetadataSchema,
  parts: z
    .array(
      z.discriminatedUnion("type", [
        z.object({ type: z.literal("text"), text: z.string() }),
        uiSourceUrlSchema,
        uiSourceDocumentSchema,
      ]),
    )
    .describe("The text, then an answer's sources"),
});

export const uiMessagePageSchema = historyPageSchema.extend({
  messages: z.array(uiMessageSchema).describe("UI messages, in seq order"),
});

/** The chunks of a streamed answer (docs/api.md §12.4), each a `data:` event of its own. */
export const uiMessageChunkSchemas = {
  start: z.object({ type: z.literal("start"), messageId: z.string(), messageMetadata: uiAnswerStartMetadataSchema }),
  "text-start": z.object({ type: z.literal("text-start"), id: z.string() }),
  "text-delta": z.object({ type: z.literal("text-delta"), id: z.string(), delta: z.string() }),
  "text-end": z.object({ type: z.literal("text-end"), id: z.string() }),
  "source-url": uiSourceUrlSchema,
  "source-document": uiSourceDocumentSchema,
  finish: z.object({
    type: z.literal("finish"),
    finishReason: z.enum(["stop", "error"]).describe('"error": a replayed answer that was cut short'),
    messageMetadata: uiMessageMetadataSchema,
  }),
  error: z.object({ type: z.literal("error"), errorText: z.string().describe("The problem (§7), as JSON text") }),
};

/**
 * A message's metadata as `useChat` holds it: a stored message's (the history), or a streamed
 * answer's `start`, then its `finish` merged in.
 */
export type UiMessageMetadata = { session_uuid: string } & Partial<
  z.infer<typeof uiMessageMetadataSchema> & z.infer<typeof uiAnswerStartMetadataSchema>
>;
export type UiMessage = UIMessage<UiMessageMetadata>;
export type UiMessageChunk = InferUIMessageChunk<UiMessage>;
export type UiMessagePage = z.infer<typeof uiMessagePageSchema>;
type UiSourcePart = z.infer<typeof uiSourceUrlSchema> | z.infer<typeof uiSourceDocumentSchema>;

export type Message = z.infer<typeof messageSchema>;
export type SessionSummary = z.infer<typeof sessionSummarySchema>;
export type SessionExport = z.infer<typeof sessionExportSchema>;
export type ChatResponse = z.infer<typeof chatResponseSchema>;
export type HistoryPage = z.infer<typeof historyPageSchema>;
export type ChatStreamEvent = {
  [Event in keyof typeof chatStreamEventSchemas]: {
    event: Event;
    data: z.infer<(typeof chatStreamEventSchemas)[Event]>;
  };
}[keyof typeof chatStreamEventSchemas];

/** A stored message in the API's shape (docs/api.md §3). */
export function toMessage(row: ShownMessage): Message {
  return {
    id: row.id,
    seq: row.seq,
    sender: row.sender,
    message: row.message,
    timestamp: row.timestamp.toISOString(),
    status: row.status,
    client_message_id: row.clientMessageId,
    sources: row.sources,
    feedback:
      row.feedbackRating === null || row.feedbackAt === null
        ? null
        : { rating: row.feedbackRating, comment: row.feedbackComment, updated_at: row.feedbackAt.toISOString() },
  };
}

/** The head of a JSON export (docs/api.md §16): everything but its messages, which are streamed. */
export function toExportHead(row: ChatSession, exportedAt: Date): Omit<SessionExport, "messages"> {
  return {
    format: "chat-history-export",
    version: 1,
    exported_at: exportedAt.toISOString(),
    session: {
      short_id: shortSessionId(row.sessionUuid),
      created_at: row.createdAt.toISOString(),
      last_message_at: row.lastMessageAt?.toISOString() ?? null,
      message_count: row.messageCount,
    },
  };
}

/**
 * The UI id of the answer to a question: there is one answer per question, so it is known when
 * the answer's stream starts, and is the same when the history is read back.
 */
export function uiAnswerId(questionId: number): string {
  return `answer-${questionId}`;
}

/**
 * A stored message as a UI message (docs/api.md §12.5). A question's id is its client_message_id,
 * the key that a retry of it after a restore must send to be recognised.
 */
export function toUiMessage(row: ShownMessage, sessionUuid: string): z.infer<typeof uiMessageSchema> {
  const text = { type: "text" as const, text: row.message };
  if (row.sender === "user") {
    return {
      id: row.clientMessageId ?? `question-${row.id}`,
      role: "user",
      metadata: toUiMetadata(row, sessionUuid),
      parts: [text],
    };
  }
  return {
    // Only answers have it, and all of them (chat_messages_reply_only_from_bot).
    id: uiAnswerId(row.replyToId!),
    role: "assistant",
    metadata: toUiMetadata(row, sessionUuid),
    parts: [text, ...toUiSources(row.sources)],
  };
}

export function toUiMetadata(row: ShownMessage, sessionUuid: string): z.infer<typeof uiMessageMetadataSchema> {
  return {
    session_uuid: sessionUuid,
    id: row.id,
    seq: row.seq,
    timestamp: row.timestamp.toISOString(),
    status: row.status,
  };
}

/** An answer's sources as UI parts, numbered as the prompt numbers them ([1] is the first). */
export function toUiSources(sources: Source[]): UiSourcePart[] {
  return sources.map(({ title, url, snippet, score }, index) => {
    const common = { sourceId: String(index + 1), title, providerMetadata: { book: { snippet, score } } };
    return url === null
      ? { type: "source-document", mediaType: "text/plain", ...common }
      : { type: "source-url", url, ...common };
  });
}

/** A stored session in the API's shape (docs/api.md §6). */
export function toSessionSummary(row: ChatSession): SessionSummary {
  return {
    session_uuid: row.sessionUuid,
    created_at: row.createdAt.toISOString(),
    last_message_at: row.lastMessageAt?.toISOString() ?? null,
    message_count: row.messageCount,
  };
}

// The admin API (docs/api.md §13).

const count = z.number().int().min(0);
const nextCursor = z.string().nullable().describe("Pass back as `cursor` for the next page; null at the end");

const readerReference = z
  .string()
  .meta({ format: "uuid" })
  .nullable()
  .describe(
    "The opaque reference of the signed-in reader it belongs to (never their identity at the sign-in); null: anonymous",
  );

export const adminSessionSchema = z.object({
  session_uuid: sessionUuid,
  created_at: timestamp,
  last_activity_at: timestamp.describe("Its last message, or its creation while it has none"),
  message_count: count,
  title: z
    .string()
    .nullable()
    .describe("Its first question, cut to 80 characters (then ending in …); null without one"),
  unanswered_questions: count.describe(
    "Questions without an answer: the model failed before any text, or is still answering",
  ),
  incomplete_answers: count.describe("Answers cut short (status incomplete)"),
  ratings: z.object({ up: count, down: count }),
  imported: z
    .boolean()
    .describe("Made by POST /api/sessions/import; its imported messages say so in metadata.imported"),
  reader: readerReference,
});

export const adminSessionsPageSchema = z.object({ sessions: z.array(adminSessionSchema), next_cursor: nextCursor });

export const adminMessageSchema = messageSchema.extend({
  reply_to_id: z.number().int().nullable().describe("For answers: the id of the question answered"),
  metadata: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("Stored with an answer: model, usage (tokens), latency_ms, retrieval; cut_short for an incomplete one"),
});

export const conversationSchema = z.object({
  session: sessionSummarySchema.extend({ reader: readerReference }),
  messages: z.array(adminMessageSchema),
  next_cursor: nextCursor,
});

/**
 * A passage as plain text and where its matches are, not as HTML: a client renders the text as
 * text and each range as whatever its page marks matches with, so no message can become markup.
 */
export const snippetSchema = z
  .object({
    text: z.string().describe("The passage around the matches, plain text"),
    highlights: z
      .array(z.tuple([count, count]))
      .describe(
        "Each match as [start, end]: offsets into text in UTF-16 code units (a JavaScript string's indices), start inclusive, end exclusive; in order, not overlapping, never empty",
      ),
  })
  .describe("The matching passage and its matches");

export const searchHitSchema = z.object({
  session_uuid: sessionUuid,
  message_id: z.number().int(),
  seq: z.number().int().min(1),
  sender: z.enum(senders),
  status: z.enum(messageStatuses),
  timestamp,
  snippet: snippetSchema,
});

export const searchPageSchema = z.object({ hits: z.array(searchHitSchema), next_cursor: nextCursor });

const measured = z.number().nullable();
export const statsFiguresSchema = z.object({
  sessions: count.describe("Sessions created (imported ones left out)"),
  questions: count.describe("Questions asked (imported ones left out)"),
  readers: count.describe(
    "Distinct signed-in readers who asked those questions: the readers their sessions belong to now; anonymous sessions left out",
  ),
  imported_sessions: count.describe("Sessions made by POST /api/sessions/import, by when they were imported"),
  imported_messages: count.describe(
    "The messages those imports brought in (metadata.imported), by when they were imported",
  ),
  answers: z.object({ complete: count, incomplete: count }),
  failures: z
    .object({
      unanswered: count.describe("Questions without an answer"),
      cut_short: count.describe("Answers cut short by a model failure or time-out (metadata.cut_short)"),
    })
    .describe("Answers that failed: nothing is stored when the model fails before any text"),
  latency_ms: z.object({ p50: measured, p95: measured }).describe("Of the answers recording latency_ms; null if none"),
  tokens: z
    .object({ total: measured, p50: measured, p95: measured })
    .describe("usage.total_tokens of the answers recording it: their sum and percentiles; null if none"),
  ratings: z
    .object({ up: count, down: count })
    .describe("Feedback given (by when it was given); the ratings an import brought left out"),
});

export const statsBucketSchema = statsFiguresSchema.extend({
  start: timestamp.describe("Start of the day or hour, UTC"),
});

export const citedSourceSchema = z.object({
  title: z.string().nullable(),
  url: z.string().nullable(),
  answers: count.describe("Answers citing it"),
});

export const statsSchema = z.object({
  from: timestamp,
  to: timestamp,
  bucket: z.enum(["day", "hour"]),
  buckets: z.array(statsBucketSchema).describe("Every day or hour of the range, oldest first, empty ones included"),
  totals: statsFiguresSchema.describe("The whole range"),
  top_sources: z.array(citedSourceSchema).describe("The sources the range's answers cite most, at most 10"),
});

export type AdminSession = z.infer<typeof adminSessionSchema>;
export type AdminMessage = z.infer<typeof adminMessageSchema>;
type Snippet = z.infer<typeof snippetSchema>;
export const contentGapSchema = z.object({
  question: z.string().describe("The question as it was last asked in the period"),
  asked: count.describe(
    "How many of the period's answers to this question (case, punctuation and whitespace aside) were gaps",
  ),
  best_score: z
    .number()
    .nullable()
    .describe("The best passage score among those answers (Qdrant's similarity); null: none cited any passage"),
  last_asked_at: timestamp.describe("When the newest of those answers was given"),
  session_uuid: sessionUuid.describe("The session of the newest of those answers"),
  question_id: z.number().int().describe("The newest question's message id"),
  answer_id: z.number().int().describe("The newest answer's message id"),
});

export const contentGapsPageSchema = z.object({
  from: timestamp.describe("The period's start, inclusive"),
  to: timestamp.describe("The period's end, exclusive"),
  below: z.number().describe("The score under which a best passage made the answer a gap"),
  counted_from: timestamp.describe(
    "Where the counts start: `from`, or, when the period holds more than 5,000 gaps, the oldest of the newest 5,000, which are the ones counted",
  ),
  gaps: z.array(contentGapSchema),
  next_cursor: nextCursor,
});

export const citedPassageSchema = sourceSchema
  .pick({ title: true, url: true, score: true })
  .describe("A passage the answer cited");

export const ratedDownAnswerSchema = z.object({
  session_uuid: sessionUuid,
  answer_id: z.number().int(),
  answer_seq: z.number().int().min(1),
  answer: z.string().describe("The answer's whole text"),
  answered_at: timestamp,
  rated_at: timestamp.describe("When the rating was last given"),
  comment: z.string().nullable().describe("What the reader wrote with it; null: nothing"),
  question_id: z.number().int(),
  question: z.string().describe("The question it answered, whole"),
  sources: z.array(citedPassageSchema).describe("The passages it cited, in the order retrieval ranked them"),
  imported: z.boolean().describe("Brought by POST /api/sessions/import: rated elsewhere"),
});

export const ratedDownPageSchema = z.object({ answers: z.array(ratedDownAnswerSchema), next_cursor: nextCursor });

export type ContentGap = z.infer<typeof contentGapSchema>;
export type RatedDownAnswer = z.infer<typeof ratedDownAnswerSchema>;

export function toContentGap(row: ContentGapRow): ContentGap {
  return {
    question: row.question,
    asked: row.asked,
    best_score: row.bestScore,
    last_asked_at: row.answeredAt.toISOString(),
    session_uuid: row.sessionUuid,
    question_id: row.questionId,
    answer_id: row.answerId,
  };
}

export function toRatedDownAnswer(row: RatedDownRow): RatedDownAnswer {
  return {
    session_uuid: row.sessionUuid,
    answer_id: row.answerId,
    answer_seq: row.answerSeq,
    answer: row.answer,
    answered_at: row.answeredAt.toISOString(),
    rated_at: row.ratedAt.toISOString(),
    comment: row.comment,
    question_id: row.questionId,
    question: row.question,
    sources: row.sources.map(({ title, url, score }) => ({ title, url, score })),
    imported: row.imported,
  };
}

export type SearchHit = z.infer<typeof searchHitSchema>;
export type Stats = z.infer<typeof statsSchema>;
export type StatsFigures = z.infer<typeof statsFiguresSchema>;

export function toAdminSession(row: AdminSessionRow, titleLength: number): AdminSession {
  const title = row.title === null ? null : [...row.title];
  return {
    session_uuid: row.session.sessionUuid,
    created_at: row.session.createdAt.toISOString(),
    last_activity_at: row.activity.toISOString(),
    message_count: row.session.messageCount,
    title: title === null ? null : title.length > titleLength ? `${title.slice(0, titleLength).join("")}…` : row.title,
    unanswered_questions: row.unanswered,
    incomplete_answers: row.incomplete,
    ratings: { up: row.up, down: row.down },
    imported: row.session.importId !== null,
    reader: row.reader,
  };
}

/** A stored message with everything the service keeps about it, for operators. */
export function toAdminMessage(row: ChatMessage): AdminMessage {
  return { ...toMessage(row), reply_to_id: row.replyToId, metadata: row.metadata };
}

const matchMarks = new RegExp(`(${matchStart}|${matchEnd})`);

/**
 * The headline's text without its match marks, and each match's range in it. Offsets are what
 * `text.length` counts (UTF-16 code units), so a browser slices the text with them as they are.
 */
function toSnippet(headline: string): Snippet {
  let text = "";
  let matchOpenedAt: number | null = null;
  const highlights: [number, number][] = [];
  for (const part of headline.split(matchMarks)) {
    if (part === matchStart) matchOpenedAt = text.length;
    else if (part === matchEnd) {
      if (matchOpenedAt !== null && matchOpenedAt < text.length) highlights.push([matchOpenedAt, text.length]);
      matchOpenedAt = null;
    } else text += part;
  }
  return { text, highlights };
}

export function toSearchHit(row: SearchHitRow): SearchHit {
  return {
    session_uuid: row.sessionUuid,
    message_id: row.id,
    seq: row.seq,
    sender: row.sender,
    status: row.status,
    timestamp: row.timestamp.toISOString(),
    snippet: toSnippet(row.headline),
  };
}

/** Percentiles interpolate; a tenth of a millisecond or token is as fine as anyone reads them. */
function rounded(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10;
}

function toStatsFigures(row: StatsRow): StatsFigures {
  return {
    sessions: row.sessions,
    questions: row.questions,
    readers: row.readers,
    imported_sessions: row.importedSessions,
    imported_messages: row.importedMessages,
    answers: { complete: row.complete, incomplete: row.incomplete },
    failures: { unanswered: row.unanswered, cut_short: row.cutShort },
    latency_ms: { p50: rounded(row.latencyP50), p95: rounded(row.latencyP95) },
    tokens: { total: row.tokens, p50: rounded(row.tokensP50), p95: rounded(row.tokensP95) },
    ratings: { up: row.up, down: row.down },
  };
}

/** The rows of readStats (one per bucket, then the whole range's) in the API's shape. */
export function toStats(query: StatsQuery, rows: StatsRow[]): Stats {
  const buckets: Stats["buckets"] = [];
  let whole: StatsRow | undefined;
  for (const row of rows) {
    if (row.bucket === null) whole = row;
    else buckets.push({ start: row.bucket.toISOString(), ...toStatsFigures(row) });
  }
  return {
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    bucket: query.bucket,
    buckets,
    totals: toStatsFigures(whole!),
    top_sources: whole?.topSources ?? [],
  };
}

// The frequent questions (docs/api.md §13.9) and the cited sources (§13.10).

const share = z
  .number()
  .min(0)
  .max(1)
  .describe("Of the times it was asked: each question has at most one answer, so this is of its answers' ratings");

export const frequentQuestionSchema = z.object({
  question: z
    .string()
    .describe("The question as the database compares questions: lower case, punctuation and whitespace runs one space"),
  example: z.string().describe("The newest wording it was asked in during the period"),
  asked: count.describe("How often it was asked in the period (imported questions left out)"),
  ratings: z
    .object({ up: count, down: count })
    .describe("Its answers' ratings, as they are now (a rating given after the period counts too)"),
  rated_up_share: share,
  rated_down_share: share,
});

export const frequentQuestionsPageSchema = z.object({
  from: timestamp,
  to: timestamp,
  questions: z.array(frequentQuestionSchema).describe("Most asked first, then by question"),
  next_cursor: nextCursor,
});

export const citedSourcesPageSchema = z.object({
  from: timestamp,
  to: timestamp,
  sources: z.array(citedSourceSchema).describe("Most cited first, then by title (or url)"),
  next_cursor: nextCursor,
});

export type FrequentQuestion = z.infer<typeof frequentQuestionSchema>;

/** A share to a thousandth: what a percentage with one decimal shows. */
function shareOf(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 1000) / 1000;
}

export function toFrequentQuestion(row: FrequentQuestionRow): FrequentQuestion {
  return {
    question: row.question,
    example: row.example,
    asked: row.asked,
    ratings: { up: row.up, down: row.down },
    rated_up_share: shareOf(row.up, row.asked),
    rated_down_share: shareOf(row.down, row.asked),
  };
}

export type CitedSource = z.infer<typeof citedSourceSchema>;

export function toCitedSource(row: CitedSourceRow): CitedSource {
  return { title: row.title, url: row.url, answers: row.answers };
}

export const uncitedPassagesPageSchema = z.object({
  from: timestamp,
  to: timestamp,
  collection: z
    .string()
    .nullable()
    .describe("The Qdrant collection listed; null when no Qdrant is configured (then nothing is listed)"),
  looked_at: count.describe("How many points of the collection this page looked at"),
  passages: z
    .array(
      z.object({
        id: z
          .union([z.number().int().min(0), z.string().meta({ format: "uuid" })])
          .describe("The point's id in the collection"),
        title: z.string(),
        url: z.string().nullable(),
      }),
    )
    .describe("Those of the points looked at whose source (title and url) no answer of the period cites, in id order"),
  next_cursor: nextCursor,
});
