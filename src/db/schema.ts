import { type SQL, sql } from "drizzle-orm";
import {
  bigint,
  check,
  customType,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  type PgColumn,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { feedbackRatings, messageStatuses, type Source, senders } from "../conversation";

/**
 * The search vector as the per-sender indexes hold it: an expression equal to it, so that each
 * partial index has statistics of its own. ANALYZE keeps statistics for an index's expressions,
 * over the rows its predicate admits, and none for a partial index on a plain column, where the
 * planner priced a word by its frequency among all messages: "relate", in every question and no
 * answer, was a search of the answers estimated at 747,000 matches, which read all 3,000,000
 * messages instead of the answers' index, which holds none (docs/benchmarks.md).
 */
export function senderSearchVector(table: { searchVector: PgColumn }): SQL {
  return sql`(${table.searchVector} || ''::tsvector)`;
}

/** PostgreSQL's tsvector; read as its text form, which nothing in the service needs. */
const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/** A 64-bit transaction ID (PostgreSQL's xid8), as its decimal text. */
const xid8 = customType<{ data: string }>({ dataType: () => "xid8" });

/**
 * When a session was last active, which its retention period counts from: its last message, or
 * its creation while it has none. Written exactly as chat_sessions_activity_idx is, so that the
 * planner can use that index.
 */
export function sessionActivity(session: { lastMessageAt: PgColumn; createdAt: PgColumn }): SQL {
  return sql`coalesce(${session.lastMessageAt}, ${session.createdAt})`;
}

/**
 * The best passage score below which an answer is a content gap: Qdrant's cosine similarity
 * (-1 to 1) between the question and the passage. Fixed here and in the partial index
 * chat_messages_content_gaps_idx (migration 0009), which a statement can use only when it states
 * the same bound; docs/api.md §13.7 says why 0.5.
 */
export const contentGapScore = 0.5;

/**
 * True for a content gap: an answer whose retrieval ran (metadata.retrieval.provider, which only
 * the retrieval-augmented responder writes: an echo answer, a cut-short one and an imported one
 * have none) and whose best passage, if any, scores under contentGapScore. best_source_score
 * (migration 0009) is IMMUTABLE, so the partial index can be built on it.
 */
export function contentGap(message: { sender: PgColumn; metadata: PgColumn; sources: PgColumn }): SQL {
  return sql`${message.sender} = 'bot' and ${message.metadata} -> 'retrieval' ->> 'provider' = 'qdrant'
    and coalesce(best_source_score(${message.sources}), 0) < ${sql.raw(String(contentGapScore))}`;
}

/**
 * A signed-in reader, as the book's sign-in names them: the pair (issuer, subject) of a verified
 * token (auth/), and nothing else of it (no name, no e-mail, no token). `reference` is the opaque
 * name operators see and filter by; the subject never leaves the database.
 */
export const readers = pgTable(
  "readers",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    reference: uuid("reference").notNull().unique().defaultRandom(),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [unique("readers_issuer_subject_unique").on(table.issuer, table.subject)],
);

export const chatSessions = pgTable(
  "chat_sessions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    sessionUuid: uuid("session_uuid").notNull().unique(),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    lastMessageAt: timestamp("last_message_at", { withTimezone: true, precision: 3 }),
    // The last seq handed out in this session. Incrementing it in the statement that inserts a
    // message takes the session row's lock, so concurrent turns get distinct, gap-free seq values
    // without a read-then-write race.
    messageCount: integer("message_count").notNull().default(0),
    // A session made by POST /api/sessions/import: the client's key and the SHA-256 of the
    // transcript it stored. Unique, so the insert itself finds a retry, even a concurrent one; kept
    // on the session, so erasing the session erases them too.
    importId: uuid("import_id").unique(),
    importHash: text("import_hash"),
    // The reader it belongs to; null: anonymous, and anyone holding its UUID may use it.
    readerId: bigint("reader_id", { mode: "number" }),
    // The title its reader gave it; null: its first question's first words (db/readers.ts).
    title: text("title"),
    // What the admin list's "failures" and "rated down" filters count, kept by the statements that
    // write messages and feedback (db/turns.ts, db/sessions.ts, db/lifecycle.ts) in the update of
    // the session row they already make, so that the filters read a partial index instead of
    // counting every session's messages. `failures`: questions asked here still unanswered plus
    // answers cut short here (imported ones are no failures); `rated_down`: answers rated down,
    // imported ratings included. Messages are deleted only with their session, so no path lowers
    // them by deleting one.
    failures: integer("failures").notNull().default(0),
    ratedDown: integer("rated_down").notNull().default(0),
  },
  (table) => [
    check("chat_sessions_import_hash_with_id", sql`(${table.importId} is null) = (${table.importHash} is null)`),
    // The admin list of sessions, newest activity first, read a page at a time from this index;
    // the retention purge and the reads that hide expired sessions filter on its first column.
    // The sessions created in an hour, which the statistics' rollups count (drizzle/0008).
    index("chat_sessions_created_at_idx").on(table.createdAt),
    index("chat_sessions_activity_idx").on(sessionActivity(table), table.id),
    foreignKey({ columns: [table.readerId], foreignColumns: [readers.id] }).onDelete("cascade"),
    // A reader's conversations, newest activity first: GET /api/me/sessions reads this index alone.
    index("chat_sessions_reader_activity_idx")
      .on(table.readerId, sql`${sessionActivity(table)} desc`, table.id.desc().nullsFirst())
      .where(sql`${table.readerId} is not null`),
    // The admin list filtered to sessions with failures, or with answers rated down: the same order
    // as chat_sessions_activity_idx, holding only the few sessions that pass the filter.
    index("chat_sessions_failures_activity_idx").on(sessionActivity(table), table.id).where(sql`${table.failures} > 0`),
    index("chat_sessions_rated_down_activity_idx")
      .on(sessionActivity(table), table.id)
      .where(sql`${table.ratedDown} > 0`),
  ],
);

export const chatMessages = pgTable(
  "chat_messages",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    sessionId: bigint("session_id", { mode: "number" }).notNull(),
    // The history's total order: timestamps can tie, seq never does.
    seq: integer("seq").notNull(),
    sender: text("sender", { enum: senders }).notNull(),
    message: text("message").notNull(),
    timestamp: timestamp("timestamp", { withTimezone: true, precision: 3 }).notNull(),
    status: text("status", { enum: messageStatuses }).notNull().default("complete"),
    clientMessageId: uuid("client_message_id"),
    // The user message a bot message answers. Unique, so a retried or raced turn can never
    // store two answers to one question.
    replyToId: bigint("reply_to_id", { mode: "number" }),
    sources: jsonb("sources").$type<Source[]>().notNull().default(sql`'[]'::jsonb`),
    metadata: jsonb("metadata").$type<Record<string, unknown>>(),
    // A reader's feedback on an answer, kept on the message itself: one per answer, replaced when
    // given again, and gone with the message.
    feedbackRating: text("feedback_rating", { enum: feedbackRatings }),
    feedbackComment: text("feedback_comment"),
    feedbackAt: timestamp("feedback_at", { withTimezone: true, precision: 3 }),
    // The text as the admin search sees it, computed by PostgreSQL when the message is written.
    // Stored, not an expression index alone: a phrase search rechecks every candidate, and a
    // common word is read row by row, and both would run to_tsvector on each (seconds on
    // 100,000 messages, docs/benchmarks.md); a stored vector is read instead.
    searchVector: tsvector("search_vector")
      .notNull()
      .generatedAlwaysAs((): SQL => sql`to_tsvector('english', ${chatMessages.message})`),
  },
  (table) => [
    foreignKey({ columns: [table.sessionId], foreignColumns: [chatSessions.id] }).onDelete("cascade"),
    foreignKey({ columns: [table.replyToId], foreignColumns: [table.id] }).onDelete("cascade"),
    unique("chat_messages_session_seq_unique").on(table.sessionId, table.seq),
    unique("chat_messages_session_client_message_id_unique").on(table.sessionId, table.clientMessageId),
    uniqueIndex("chat_messages_reply_to_id_unique").on(table.replyToId),
    check("chat_messages_sender_check", sql`${table.sender} in ('user', 'bot')`),
    check("chat_messages_status_check", sql`${table.status} in ('complete', 'incomplete')`),
    check("chat_messages_seq_positive", sql`${table.seq} > 0`),
    check("chat_messages_reply_only_from_bot", sql`(${table.sender} = 'bot') = (${table.replyToId} is not null)`),
    check("chat_messages_feedback_rating_check", sql`${table.feedbackRating} in ('up', 'down')`),
    check("chat_messages_feedback_only_on_answers", sql`${table.feedbackRating} is null or ${table.sender} = 'bot'`),
    check(
      "chat_messages_feedback_whole",
      sql`(${table.feedbackRating} is null) = (${table.feedbackAt} is null) and (${table.feedbackRating} is not null or ${table.feedbackComment} is null)`,
    ),
    index("chat_messages_message_search").using("gin", table.searchVector),
    // The search limited to questions or to answers: a word that the other sender's messages hold
    // would otherwise be found, and dropped, at every one of its matches in the full index. On an
    // expression, so that ANALYZE keeps statistics of each sender's words (drizzle/0011).
    index("chat_messages_user_search").using("gin", senderSearchVector(table)).where(sql`${table.sender} = 'user'`),
    index("chat_messages_bot_search").using("gin", senderSearchVector(table)).where(sql`${table.sender} = 'bot'`),
    // The admin statistics read messages by time, and ratings by when they were given.
    index("chat_messages_timestamp_idx").on(table.timestamp),
    index("chat_messages_feedback_at_idx").on(table.feedbackAt).where(sql`${table.feedbackAt} is not null`),
    // The content gaps (db/admin-gaps.ts): answers whose retrieval ran and found no passage as
    // good as contentGapScore, newest first. Partial, so the view costs the gaps in its period.
    index("chat_messages_content_gaps_idx").on(table.timestamp, table.id).where(contentGap(table)),
    // The answers rated down (db/admin-rated-down.ts), newest rating first.
    index("chat_messages_rated_down_idx").on(table.feedbackAt, table.id).where(sql`${table.feedbackRating} = 'down'`),
  ],
);

export type ChatSession = typeof chatSessions.$inferSelect;
export type Reader = typeof readers.$inferSelect;
/** A message as the service reads it: every column but the search vector (see messageColumns). */
export type ChatMessage = Omit<typeof chatMessages.$inferSelect, "searchVector">;

// The admin statistics' rollups (db/stats-fold.ts, docs/api.md §13.5): per UTC hour, each row set
// computed from scratch from that hour's rows by one SQL function per table (drizzle/0008), so the
// statistics of a range read its hours, not its messages. The hours a write changes are marked
// (stats_marks): a message's insert by the fold's own sweep (stats_sweeps), every other write by
// triggers on chat_messages and chat_sessions; the fold recomputes the marked hours.
const hourColumn = () => timestamp("hour", { withTimezone: true, precision: 3 }).notNull();
const percentileColumns = () => ({
  latencyP50: doublePrecision("latency_p50"),
  latencyP95: doublePrecision("latency_p95"),
  tokensP50: doublePrecision("tokens_p50"),
  tokensP95: doublePrecision("tokens_p95"),
});

/**
 * The fold's sweeps of the new messages (drizzle/0012): a chat turn marks nothing itself; each fold
 * first marks the hours of the messages numbered after `messageId` of the newest sweep that no
 * transaction still writing at the last sweep had begun before. One row per sweep, each with the
 * oldest transaction its snapshot saw in progress (`snapshotXmin`) and the first not yet begun
 * (`snapshotXmax`); the sweep deletes the rows no later sweep can need.
 */
export const statsSweeps = pgTable("stats_sweeps", {
  snapshotXmin: xid8("snapshot_xmin").notNull(),
  snapshotXmax: xid8("snapshot_xmax").notNull(),
  messageId: bigint("message_id", { mode: "number" }).notNull(),
});

/**
 * The hours whose rollups a write has changed, not yet folded. No key: a write inserts its marks
 * without ever waiting on another's; the fold takes every mark of an hour at once.
 */
export const statsMarks = pgTable("stats_marks", { hour: hourColumn() });

/**
 * An hour's summable figures (docs/api.md §13.5; null tokens: no answer that hour gave a count),
 * and its own percentiles, which an hourly bucket reads as they are.
 */
export const statsHours = pgTable("stats_hours", {
  hour: hourColumn().primaryKey(),
  sessions: integer("sessions").notNull(),
  importedSessions: integer("imported_sessions").notNull(),
  importedMessages: integer("imported_messages").notNull(),
  questions: integer("questions").notNull(),
  complete: integer("complete").notNull(),
  incomplete: integer("incomplete").notNull(),
  unanswered: integer("unanswered").notNull(),
  cutShort: integer("cut_short").notNull(),
  tokens: doublePrecision("tokens"),
  up: integer("up").notNull(),
  down: integer("down").notNull(),
  ...percentileColumns(),
});

/** A UTC day's percentiles (as percentile_cont over its answers), which a daily bucket reads as they are. */
export const statsDays = pgTable("stats_days", {
  day: timestamp("day", { withTimezone: true, precision: 3 }).primaryKey(),
  ...percentileColumns(),
});

/**
 * An hour's answers' latencies and token counts as an exact histogram: each value with how many
 * answers had it, so percentile_cont over any set of hours is computed exactly. `bin` is
 * stats_value_bin(value), a coarse, monotone grouping that stats_hour_bins and stats_day_bins count.
 */
export const statsHourValues = pgTable(
  "stats_hour_values",
  {
    hour: hourColumn(),
    measure: text("measure", { enum: ["latency", "tokens"] }).notNull(),
    value: doublePrecision("value").notNull(),
    n: integer("n").notNull(),
    bin: integer("bin").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.hour, table.measure, table.value] }),
    // A percentile's value: the values of one bin over a bucket's hours.
    index("stats_hour_values_bin_idx").on(table.measure, table.bin, table.hour),
  ],
);

/** stats_hour_values counted per bin: where an hour's share of a percentile lies, in few rows. */
export const statsHourBins = pgTable(
  "stats_hour_bins",
  {
    hour: hourColumn(),
    measure: text("measure", { enum: ["latency", "tokens"] }).notNull(),
    bin: integer("bin").notNull(),
    n: integer("n").notNull(),
  },
  (table) => [primaryKey({ columns: [table.hour, table.measure, table.bin] })],
);

/** stats_hour_values summed per UTC day: a percentile's value over whole days, read in few rows. */
export const statsDayValues = pgTable(
  "stats_day_values",
  {
    day: timestamp("day", { withTimezone: true, precision: 3 }).notNull(),
    measure: text("measure", { enum: ["latency", "tokens"] }).notNull(),
    value: doublePrecision("value").notNull(),
    n: integer("n").notNull(),
    bin: integer("bin").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.day, table.measure, table.value] }),
    index("stats_day_values_bin_idx").on(table.measure, table.bin, table.day),
  ],
);

/** stats_hour_values counted per UTC day and bin: where a day's percentile lies, read in few rows. */
export const statsDayBins = pgTable(
  "stats_day_bins",
  {
    day: timestamp("day", { withTimezone: true, precision: 3 }).notNull(),
    measure: text("measure", { enum: ["latency", "tokens"] }).notNull(),
    bin: integer("bin").notNull(),
    n: integer("n").notNull(),
  },
  (table) => [primaryKey({ columns: [table.day, table.measure, table.bin] })],
);

/** The signed-in readers who asked a question in the hour: distinct readers merge across hours. */
export const statsHourReaders = pgTable(
  "stats_hour_readers",
  { hour: hourColumn(), readerId: bigint("reader_id", { mode: "number" }).notNull() },
  (table) => [primaryKey({ columns: [table.hour, table.readerId] })],
);

/** How many of the hour's answers cite each source (title and url as the answers gave them). */
export const statsHourSources = pgTable(
  "stats_hour_sources",
  {
    hour: hourColumn(),
    title: text("title"),
    url: text("url"),
    answers: integer("answers").notNull(),
  },
  (table) => [index("stats_hour_sources_hour_idx").on(table.hour)],
);

/**
 * A question as an index key: its MD5. A question may run to 8,000 characters, more than a btree
 * entry holds (2,704 bytes): keyed by its text, one long question stopped every fold (migration 0010).
 */
export const questionKey = (question: PgColumn): SQL => sql`md5(${question})`;

/**
 * The questions asked in the hour, grouped by normalized_question; up and down count the ratings
 * of their answers, whenever given; `example` is the newest wording.
 */
export const statsHourQuestions = pgTable(
  "stats_hour_questions",
  {
    hour: hourColumn(),
    question: text("question").notNull(),
    asked: integer("asked").notNull(),
    up: integer("up").notNull(),
    down: integer("down").notNull(),
    example: text("example").notNull(),
  },
  (table) => [
    uniqueIndex("stats_hour_questions_hour_question_key").on(table.hour, questionKey(table.question)),
    // A kept period's page finds each of its questions' wordings here (db/admin-frequent.ts).
    index("stats_hour_questions_question_idx").on(questionKey(table.question), table.hour),
  ],
);

/**
 * The periods whose questions the fold keeps counted (stats_period_questions): the `days` days
 * that end, exclusive, at `ends`, the end of the hour the fold last ran in. The admin page's
 * choices (src/routes/admin-page.tsx) and the API's default are kept; any other period is added
 * up from the hourly rows when it is read. A new choice on the page wants its row here, inserted
 * by a migration with `ends` far in the past: the next fold counts it whole.
 */
export const statsPeriods = pgTable("stats_periods", {
  days: integer("days").primaryKey(),
  ends: timestamp("ends", { withTimezone: true, precision: 3 }).notNull(),
});

/**
 * Each kept period's questions, the sums of their hourly rows (stats_hour_questions) over the
 * period: the fold adds what changes in an hour of it, and, as the period moves on, the hours it
 * takes in and takes away what it leaves (drizzle/0010). A question no longer asked in the period
 * is deleted by the fold that finds it so. Ranked by the index the frequent questions read a page from.
 */
export const statsPeriodQuestions = pgTable(
  "stats_period_questions",
  {
    days: integer("days").notNull(),
    question: text("question").notNull(),
    asked: integer("asked").notNull(),
    up: integer("up").notNull(),
    down: integer("down").notNull(),
  },
  (table) => [
    uniqueIndex("stats_period_questions_days_question_key").on(table.days, questionKey(table.question)),
    index("stats_period_questions_rank_idx")
      // The order of a ranked list (db/ranked.ts, whose rankedPrefixLength is the 200).
      .on(table.days, sql`${table.asked} desc`, sql`left(${table.question}, 200)`, questionKey(table.question))
      .where(sql`${table.asked} > 0`),
    index("stats_period_questions_emptied_idx").on(table.days).where(sql`${table.asked} = 0`),
  ],
);
