/**
 * A signed-in reader's own conversations (docs/api.md §17): the requests of /api/me/* and of
 * renaming a session, the list's shape, and the default title every session has.
 */
import { z } from "zod";
import type { ReaderSessionRow } from "../db/readers";
import { storableText } from "../storable-text";
import { decodeSessionsCursor } from "./cursor";
import { queryInteger } from "./query";
import { uuidSchema } from "./uuid";

/** Session UUIDs per claim: a browser's whole localStorage history in one call, a bounded statement. */
export const maxClaimedSessions = 100;

export const claimRequestSchema = z.object(
  {
    session_uuids: z
      .array(uuidSchema, { error: "must be an array of session UUIDs" })
      .min(1, "must hold at least one session UUID")
      .max(maxClaimedSessions, `must hold at most ${maxClaimedSessions} session UUIDs`)
      .describe("The anonymous sessions this browser holds; each at most once is enough"),
  },
  { error: "must be a JSON object" },
);

export const maxTitleLength = 200;

export const renameRequestSchema = z.object(
  {
    title: z
      .string({ error: "must be a string or null" })
      .transform((title) => title.trim())
      .pipe(
        z
          .string()
          .min(1, "must contain a non-whitespace character")
          .refine((title) => [...title].length <= maxTitleLength, `must be at most ${maxTitleLength} characters`)
          .check(storableText),
      )
      .nullable()
      .describe("The reader's title; null gives the session back its default title (its first question)"),
  },
  { error: "must be a JSON object" },
);

export const readerSessionsQuerySchema = z
  .object({
    limit: queryInteger(1, 100, 20).describe("How many sessions, 1 to 100"),
    cursor: z
      .string({ error: "must be given once" })
      .optional()
      .describe("next_cursor of the previous page, unchanged"),
  })
  .transform((query, context) => {
    if (query.cursor === undefined) return { limit: query.limit, after: null };
    const after = decodeSessionsCursor(query.cursor);
    if (!after) {
      context.addIssue({ code: "custom", path: ["cursor"], message: "is not a cursor this API issued" });
      return z.NEVER;
    }
    return { limit: query.limit, after };
  });

/** How long a default title may be, in characters, before it is cut at a word. */
export const defaultTitleLength = 60;
export const untitled = "New conversation";

/**
 * A session's title when its reader gave it none: its first question on one line, cut at the last
 * word boundary within `defaultTitleLength` characters (or mid-word when one word is longer), with
 * "…" when cut. No model is asked.
 */
export function defaultTitle(firstQuestion: string | null): string {
  const line = firstQuestion?.replace(/\s+/g, " ").trim();
  if (!line) return untitled;
  const characters = [...line];
  if (characters.length <= defaultTitleLength) return line;
  const head = characters.slice(0, defaultTitleLength + 1).join("");
  const atWord = head.lastIndexOf(" ");
  const cut = atWord > 0 ? head.slice(0, atWord) : characters.slice(0, defaultTitleLength).join("");
  return `${cut.replace(/[\s.,;:!?-]+$/u, "")}…`;
}

const timestamp = z
  .string()
  .meta({ format: "date-time" })
  .describe("RFC 3339 UTC with milliseconds, e.g. 2026-11-23T20:15:08.123Z");

export const readerSessionSchema = z.object({
  session_uuid: z.string().meta({ format: "uuid" }),
  title: z.string().describe("The reader's title, or the first question's first words"),
  title_is_custom: z.boolean().describe("The reader gave this title; it is never overwritten"),
  created_at: timestamp,
  last_message_at: timestamp.nullable(),
  message_count: z.number().int(),
});

export type ReaderSession = z.infer<typeof readerSessionSchema>;

export const readerSessionsPageSchema = z.object({
  sessions: z.array(readerSessionSchema).describe("Newest activity first"),
  next_cursor: z.string().nullable().describe("Pass back as `cursor` for the next page; null at the end"),
});

export const claimResponseSchema = z.object({
  claimed: z
    .array(z.string().meta({ format: "uuid" }))
    .describe("The sessions that are now the reader's, the ones that already were included"),
  not_found: z
    .array(z.string().meta({ format: "uuid" }))
    .describe("Unknown, expired or another reader's: left as they are, and told apart by nothing"),
});

export const renamedSessionSchema = z.object({
  session_uuid: z.string().meta({ format: "uuid" }),
  created_at: timestamp,
  last_message_at: timestamp.nullable(),
  message_count: z.number().int(),
  title: z.string().nullable().describe("The reader's title; null: the default, its first question's first words"),
});

export const erasedSchema = z.object({ sessions_erased: z.number().int().describe("Conversations erased") });

export function toReaderSession({ session, firstQuestion }: ReaderSessionRow): z.infer<typeof readerSessionSchema> {
  return {
    session_uuid: session.sessionUuid,
    title: session.title ?? defaultTitle(firstQuestion),
    title_is_custom: session.title !== null,
    created_at: session.createdAt.toISOString(),
    last_message_at: session.lastMessageAt?.toISOString() ?? null,
    message_count: session.messageCount,
  };
}
