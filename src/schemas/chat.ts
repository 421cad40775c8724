import { z } from "zod";
import { storableText } from "../storable-text";
import { uuidSchema } from "./uuid";

export const maxQuestionLength = 8000;

/**
 * The longest valid question written entirely as JSON escapes is 12 bytes a character (an astral
 * character as `\uD83E\uDD16`, what Python's json.dumps sends by default), so a valid question
 * can take 96,000 bytes. The other fields, escaped just as much, fit in the last kilobyte.
 */
export const maxChatBodyBytes = maxQuestionLength * 12 + 1024;

/**
 * Messages are stored exactly as sent, so what Postgres cannot store (U+0000) and what it would
 * store altered (a lone surrogate would become U+FFFD) is refused instead. Length counts Unicode
 * code points, so an emoji is one character, as a reader would count it.
 */
export function messageTextSchema(maxLength: number) {
  return (
    z
      .string({ error: "must be a string" })
      // Nothing else is wrong with an empty string.
      .min(1, { error: "must not be empty", abort: true })
      // A string has no more code points than UTF-16 units: most need no counting.
      .refine(
        (value) => value.length <= maxLength || [...value].length <= maxLength,
        `must be at most ${maxLength} characters`,
      )
      .refine((value) => /\S/u.test(value), "must contain a non-whitespace character")
      .check(storableText)
      .meta({
        // JSON Schema's maxLength counts code points too.
        maxLength,
        description: "Stored exactly as sent: at least one non-whitespace character, no U+0000, no lone surrogates",
      })
  );
}

export const questionSchema = messageTextSchema(maxQuestionLength);

/** `null` is accepted for the optional fields: clients commonly send null for "none". */
export const chatRequestSchema = z.object(
  {
    question: questionSchema,
    session_uuid: uuidSchema.nullish(),
    client_message_id: uuidSchema.nullish().describe("Idempotency key of this turn within its session"),
    stream: z.boolean({ error: "must be a boolean" }).optional().describe("Answer as server-sent events"),
  },
  { error: "must be a JSON object" },
);

export type ChatRequest = z.infer<typeof chatRequestSchema>;
