import { z } from "zod";
import { decodeCursor } from "./cursor";
import { queryInteger } from "./query";

export const historyQuerySchema = z
  .object({
    limit: queryInteger(1, 1000, 100),
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
