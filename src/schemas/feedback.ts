import { z } from "zod";
import { feedbackRatings } from "../conversation";
import { storableText } from "../storable-text";
import { uuidSchema } from "./uuid";

export const maxCommentLength = 2000;

/** A message id in a path: a positive integer, as the history shows it. */
export const feedbackPathSchema = z.object({
  session_uuid: uuidSchema,
  message_id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, "must be a message id (a positive integer)")
    .transform(Number)
    .meta({ description: "The message's id, from the history" }),
});

/**
 * Like a question, a comment is stored as sent, so what PostgreSQL cannot store or would alter is
 * refused; a comment of nothing but whitespace is no comment.
 */
const commentSchema = z
  .string({ error: "must be a string" })
  .refine((value) => [...value].length <= maxCommentLength, `must be at most ${maxCommentLength} characters`)
  .check(storableText)
  .meta({ maxLength: maxCommentLength, description: "Why; stored as sent, or as none if it is blank" })
  .transform((value) => (/\S/u.test(value) ? value : null));

export const feedbackRequestSchema = z.object(
  {
    rating: z.enum(feedbackRatings, { error: 'must be "up" or "down"' }),
    comment: commentSchema.nullish(),
  },
  { error: "must be a JSON object" },
);

export type FeedbackRequest = z.infer<typeof feedbackRequestSchema>;
