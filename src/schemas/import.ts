/**
 * The body of POST /api/sessions/import (docs/api.md §15): a transcript, as a browser kept it,
 * with the client's idempotency key. Every rule names the index of the message that breaks it.
 */
import { z } from "zod";
import { type FeedbackRating, isSourceUrl, messageStatuses, type Source, sourceUrlPattern } from "../conversation";
import { storableText } from "../storable-text";
import { maxQuestionLength, messageTextSchema } from "./chat";
import { feedbackRequestSchema } from "./feedback";
import { earliestQueryTime } from "./query";
import { uuidSchema } from "./uuid";

export const maxImportMessages = 1000;
export const maxImportBodyBytes = 1024 * 1024;
/**
 * Answers are the model's, which has no length limit of ours; the echo of the longest question is
 * itself longer than a question may be. Four times a question is far above any answer seen.
 */
export const maxAnswerLength = 4 * maxQuestionLength;
const maxSources = 50;
/**
 * Earlier timestamps are taken for a mistake, such as seconds sent as milliseconds (1970); and a
 * query cannot name a time before it either (schemas/query.ts).
 */
const earliestTimestamp = earliestQueryTime;

const timestampSchema = z.iso
  .datetime({
    offset: true,
    abort: true,
    error: "must be an RFC 3339 date-time with a time zone, e.g. 2026-11-23T20:15:08.123Z",
  })
  .refine((value) => Date.parse(value) >= earliestTimestamp, "must not be before 2000-01-01T00:00:00Z")
  .refine((value) => Date.parse(value) <= Date.now(), "must not be in the future")
  .nullish()
  .describe("When it was said; kept to the millisecond. Missing: see docs/api.md §15");

const importedSourceSchema = z.object(
  {
    title: z
      .string({ error: "must be a string" })
      .min(1, "must not be empty")
      .max(1000, "must be at most 1000 characters")
      .check(storableText),
    url: z
      .string({ error: "must be a string or null" })
      .max(2048, "must be at most 2048 characters")
      .check(storableText)
      .refine(isSourceUrl, "must be an http(s) URL")
      .meta({ pattern: sourceUrlPattern.source })
      .nullish()
      .transform((value) => value ?? null),
    snippet: z
      .string({ error: "must be a string" })
      .max(2000, "must be at most 2000 characters")
      .check(storableText)
      .default(""),
    score: z.number({ error: "must be a number" }).default(0),
  },
  { error: "must be an object" },
) satisfies z.ZodType<Source, unknown>;

const userMessageSchema = z.object({
  sender: z.literal("user"),
  message: messageTextSchema(maxQuestionLength),
  timestamp: timestampSchema,
  status: z.literal("complete", { error: 'must be "complete": only an answer can be incomplete' }).optional(),
  sources: z.array(z.unknown()).max(0, "must be empty: only an answer has sources").optional(),
  feedback: z.null({ error: "must be null: only an answer takes feedback" }).optional(),
});

/**
 * A reader's feedback on an answer, as an export writes it (§3): what PUT feedback takes, and
 * when it was given.
 */
const importedFeedbackSchema = feedbackRequestSchema.extend({
  updated_at: timestampSchema.describe(
    "When it was given; kept to the millisecond, no later than the import. Missing: the import's time",
  ),
});

const botMessageSchema = z.object({
  sender: z.literal("bot"),
  message: messageTextSchema(maxAnswerLength),
  timestamp: timestampSchema,
  status: z.enum(messageStatuses, { error: 'must be "complete" or "incomplete"' }).default("complete"),
  sources: z
    .array(importedSourceSchema, { error: "must be an array" })
    .max(maxSources, `must hold at most ${maxSources} sources`)
    .default([]),
  feedback: importedFeedbackSchema
    .nullish()
    .describe("The reader's feedback, as an export writes it; checked as PUT feedback checks it (docs/api.md §15)"),
});

const importedMessageSchema = z.discriminatedUnion("sender", [userMessageSchema, botMessageSchema], {
  error: (issue) => (issue.code === "invalid_union" ? 'must be "user" or "bot"' : "must be a JSON object"),
});

/** A message of the transcript as it will be stored. */
export type TranscriptMessage = {
  sender: "user" | "bot";
  message: string;
  /** RFC 3339 UTC with milliseconds; null when the transcript had none. */
  timestamp: string | null;
  status: (typeof messageStatuses)[number];
  sources: Source[];
  /** For an answer, the index of the question it answers. */
  answers: number | null;
  /** An answer's feedback; `at` as `timestamp`. */
  feedback: { rating: FeedbackRating; comment: string | null; at: string | null } | null;
};

export const importRequestSchema = z
  .object(
    {
      import_id: uuidSchema.describe(
        "The client's key for this import: a fresh random UUID, kept with the transcript until the import succeeded",
      ),
      messages: z
        .array(importedMessageSchema, { error: "must be an array" })
        .min(1, "must hold at least one message")
        .max(maxImportMessages, `must hold at most ${maxImportMessages} messages`),
    },
    { error: "must be a JSON object" },
  )
  .transform(({ import_id, messages }, context) => {
    const transcript: TranscriptMessage[] = [];
    // The questions not answered yet; an answer answers the nearest of them before it.
    const unanswered: number[] = [];
    let previous: { index: number; at: number } | null = null;
    for (const [index, message] of messages.entries()) {
      const at = message.timestamp ? Date.parse(message.timestamp) : null;
      if (at !== null) {
        if (previous && at < previous.at) {
          context.addIssue({
            code: "custom",
            path: ["messages", index, "timestamp"],
            message: `must not be earlier than the timestamp of message ${previous.index}`,
          });
        }
        previous = { index, at };
      }
      let answers: number | null = null;
      if (message.sender === "user") {
        unanswered.push(index);
      } else {
        answers = unanswered.pop() ?? null;
        if (answers === null) {
          context.addIssue({
            code: "custom",
            path: ["messages", index, "sender"],
            message:
              "is a bot message that answers no question: every question before it has its answer (leave out a greeting, or join a second answer to the one before it)",
          });
        }
      }
      let feedback: TranscriptMessage["feedback"] = null;
      if (message.sender === "bot" && message.feedback) {
        const given = message.feedback.updated_at ? Date.parse(message.feedback.updated_at) : null;
        if (given !== null && previous && given < previous.at) {
          context.addIssue({
            code: "custom",
            path: ["messages", index, "feedback", "updated_at"],
            message: `must not be earlier than the timestamp of message ${previous.index}`,
          });
        }
        feedback = {
          rating: message.feedback.rating,
          comment: message.feedback.comment ?? null,
          at: given === null ? null : new Date(given).toISOString(),
        };
      }
      transcript.push({
        sender: message.sender,
        message: message.message,
        timestamp: at === null ? null : new Date(at).toISOString(),
        status: message.status ?? "complete",
        sources: message.sender === "bot" ? message.sources : [],
        answers,
        feedback,
      });
    }
    return { import_id, messages: transcript };
  });

export type ImportRequest = z.infer<typeof importRequestSchema>;
