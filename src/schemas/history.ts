import { z } from "zod";
import { decodeCursor } from "./cursor";
import { queryInteger } from "./query";

export const historyQuerySchema = z
  .object({
    limit: queryInteger(1, 1000, 100).describe(
      "How many messages at most, 1 to 1000; a page also stops before 1 MiB (docs/api.md §5)",
    ),
    order: z
      .enum(["asc", "desc"], { error: 'must be "asc" or "desc"' })
      .default("asc")
      .describe("asc (oldest first) or desc (newest first)"),
    cursor: z
      .string({ error: "must be given once" })
      .optional()
      .describe("next_cursor of the previous page, unchanged; bound to its order"),
  })
  .transform((query, context) => {
    if (query.cursor === undefined) return { limit: query.limit, order: query.order, afterSeq: null };
    const cursor = decodeCursor(query.cursor);
    if (!cursor) {
      context.addIssue({ code: "custom", path: ["cursor"], message: "is not a cursor this API issued" });
      return z.NEVER;
    }
    if (cursor.order !== query.order) {
      context.addIssue({ code: "custom", path: ["cursor"], message: `was issued for order=${cursor.order}` });
      return z.NEVER;
    }
    return { limit: query.limit, order: query.order, afterSeq: cursor.afterSeq };
  });
