import { z } from "zod";
import { decodeCursor } from "./cursor";

export const historyQuerySchema = z
  .object({
    limit: z.coerce
      .number({ error: "must be an integer from 1 to 1000" })
      .int("must be an integer from 1 to 1000")
      .min(1, "must be an integer from 1 to 1000")
      .max(1000, "must be an integer from 1 to 1000")
      .default(100),
    order: z.enum(["asc", "desc"], { error: 'must be "asc" or "desc"' }).default("asc"),
    cursor: z.string({ error: "must be given once" }).optional(),
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
