/** The query parameters of the admin API (docs/api.md §13), validated and turned into what db/admin.ts and db/admin-stats.ts take. */
import { z } from "zod";
import { senders } from "../conversation";
import type { RankedCursor } from "../db/ranked";
import { contentGapScore } from "../db/schema";
import { storableText } from "../storable-text";
import {
  decodePassagesCursor,
  decodeRankedCursor,
  decodeSearchCursor,
  decodeSessionsCursor,
  decodeTimeCursor,
} from "./cursor";
import { earliestQueryTime, queryInteger, queryTime, queryTimeRange } from "./query";
import { uuidSchema } from "./uuid";

const trueOrFalse = z
  .enum(["true", "false"], { error: 'must be "true" or "false"' })
  .default("false")
  .transform((value) => value === "true");

const pageSize = (fallback: number, max: number) => queryInteger(1, max, fallback);

const cursorText = z.string({ error: "must be given once" }).optional();

type Issues = z.core.$RefinementCtx;

function rangeInOrder(from: Date | undefined, to: Date | undefined, context: Issues): boolean {
  if (from && to && from.getTime() >= to.getTime()) {
    context.addIssue({ code: "custom", path: ["to"], message: "must be later than from" });
    return false;
  }
  return true;
}

/** How many characters of a session's first question make its title. */
export const titleLength = 80;

export const adminSessionsQuerySchema = z
  .object({
    from: queryTime.optional().describe(`Sessions last active at or after this time, ${queryTimeRange}`),
    to: queryTime.optional().describe(`Sessions last active before this time, ${queryTimeRange}`),
    min_messages: queryInteger(0, 1_000_000, 0).describe("Sessions holding at least this many messages"),
    has_failures: trueOrFalse.describe(
      "true: only sessions with a question left unanswered or an answer cut short, imported messages left out",
    ),
    has_negative_feedback: trueOrFalse.describe('true: only sessions with an answer rated "down"'),
    reader: uuidSchema
      .optional()
      .describe("Only the sessions of the signed-in reader with this opaque reference (a session's `reader`)"),
    limit: pageSize(50, 200).describe("How many sessions, 1 to 200"),
    cursor: cursorText.describe("next_cursor of the previous page, unchanged"),
  })
  .transform((query, context) => {
    if (!rangeInOrder(query.from, query.to, context)) return z.NEVER;
    let after: { activity: Date; id: number } | null = null;
    if (query.cursor !== undefined) {
      after = decodeSessionsCursor(query.cursor);
      if (!after) {
        context.addIssue({ code: "custom", path: ["cursor"], message: "is not a cursor this API issued" });
        return z.NEVER;
      }
    }
    return {
      from: query.from ?? null,
      to: query.to ?? null,
      minMessages: query.min_messages,
      hasFailures: query.has_failures,
      hasNegativeFeedback: query.has_negative_feedback,
      reader: query.reader ?? null,
      after,
      limit: query.limit,
      titleLength,
    };
  });

export const maxSearchLength = 500;

export const adminSearchQuerySchema = z
  .object({
    q: z
      .string({ error: "is required, once" })
      .refine((value) => /\S/u.test(value), "must contain a non-whitespace character")
      .refine((value) => [...value].length <= maxSearchLength, `must be at most ${maxSearchLength} characters`)
      .check(storableText)
      .meta({ minLength: 1, maxLength: maxSearchLength })
      .describe('Words, "a phrase", or, -word: PostgreSQL\'s websearch_to_tsquery, English stemming'),
    sender: z
      .enum(senders, { error: 'must be "user" or "bot"' })
      .optional()
      .describe('"user": questions only; "bot": answers only; absent: both'),
    limit: pageSize(20, 100).describe(
      "How many hits at most, 1 to 100; a page also stops before 1 MiB (docs/api.md §13.4)",
    ),
    cursor: cursorText.describe("next_cursor of the previous page, unchanged"),
  })
  .transform((query, context) => {
    let beforeId: number | null = null;
    if (query.cursor !== undefined) {
      beforeId = decodeSearchCursor(query.cursor);
      if (beforeId === null) {
        context.addIssue({ code: "custom", path: ["cursor"], message: "is not a cursor this API issued" });
        return z.NEVER;
      }
    }
    return { text: query.q, sender: query.sender ?? null, beforeId, limit: query.limit };
  });

const buckets = { day: 86_400_000, hour: 3_600_000 } as const;
/** At most this many buckets a request: a year and a quarter of days, six weeks of hours. */
export const maxBuckets = 1000;
export const topSourcesShown = 10;

/** The start of the bucket after the one that holds `time`: the default end of a range. */
function nextBucketStart(time: number, bucketMs: number): number {
  return Math.floor(time / bucketMs) * bucketMs + bucketMs;
}

export const adminStatsQuerySchema = z
  .object({
    from: queryTime
      .optional()
      .describe(
        `Start of the range, inclusive, ${queryTimeRange}; default: 30 days (or 48 hours) before \`to\`, but not before 2000`,
      ),
    to: queryTime
      .optional()
      .describe(`End of the range, exclusive, ${queryTimeRange}; default: the end of the current day (or hour), UTC`),
    bucket: z.enum(["day", "hour"], { error: 'must be "day" or "hour"' }).default("day").describe("UTC days or hours"),
  })
  .transform((query, context) => {
    const bucketMs = buckets[query.bucket];
    const to = query.to ?? new Date(nextBucketStart(Date.now(), bucketMs));
    // The default start stays in the range a query may name, as a given one must (./query.ts).
    const from =
      query.from ?? new Date(Math.max(to.getTime() - (query.bucket === "day" ? 30 : 48) * bucketMs, earliestQueryTime));
    if (!rangeInOrder(from, to, context)) return z.NEVER;
    const firstBucket = Math.floor(from.getTime() / bucketMs) * bucketMs;
    if ((to.getTime() - firstBucket) / bucketMs > maxBuckets) {
      context.addIssue({
        code: "custom",
        path: ["from"],
        message: `the range holds more than ${maxBuckets} ${query.bucket}s; narrow it or use bucket=day`,
      });
      return z.NEVER;
    }
    return { from, to, bucket: query.bucket, topSources: topSourcesShown };
  });

/** The content gaps' period: 30 days by default, at most 92, so a request costs at most a quarter's gaps. */
const gapsPeriodDays = { fallback: 30, max: 92 } as const;
const dayMs = 86_400_000;

/** A score bound as a query writes it: a plain decimal number, as queryInteger reads an integer. */
const scoreBelow = z
  .string({ error: "must be given once" })
  .regex(/^(0(\.\d{1,6})?|\.\d{1,6}|1(\.0{1,6})?)$/, "must be a decimal number from 0 to 1, like 0.35")
  .transform(Number)
  .refine(
    (value) => value > 0 && value <= contentGapScore,
    `must be greater than 0 and at most ${contentGapScore}, the score under which an answer is a gap`,
  );

export const adminContentGapsQuerySchema = z
  .object({
    from: queryTime
      .optional()
      .describe(`Gaps answered at or after this time, ${queryTimeRange}; default: 30 days before \`to\``),
    to: queryTime.optional().describe(`Gaps answered before this time, ${queryTimeRange}; default: now`),
    below: scoreBelow
      .optional()
      .describe(
        `Only answers whose best passage scores under this, greater than 0 and at most ${contentGapScore} (the default): Qdrant's similarity`,
      ),
    limit: pageSize(50, 200).describe("How many questions, 1 to 200; a page also stops before 1 MiB"),
    cursor: cursorText.describe("next_cursor of the previous page, unchanged, with the same from, to and below"),
  })
  .transform((query, context) => {
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(Math.max(to.getTime() - gapsPeriodDays.fallback * dayMs, earliestQueryTime));
    if (!rangeInOrder(from, to, context)) return z.NEVER;
    if (to.getTime() - from.getTime() > gapsPeriodDays.max * dayMs) {
      context.addIssue({
        code: "custom",
        path: ["from"],
        message: `the period is longer than ${gapsPeriodDays.max} days; narrow it`,
      });
      return z.NEVER;
    }
    let after: { at: Date; id: number } | null = null;
    if (query.cursor !== undefined) {
      after = decodeTimeCursor("gaps", query.cursor);
      if (!after) {
        context.addIssue({ code: "custom", path: ["cursor"], message: "is not a cursor this API issued" });
        return z.NEVER;
      }
    }
    return { from, to, below: query.below ?? null, after, limit: query.limit };
  });

export const adminRatedDownQuerySchema = z
  .object({
    from: queryTime.optional().describe(`Ratings given at or after this time, ${queryTimeRange}`),
    to: queryTime.optional().describe(`Ratings given before this time, ${queryTimeRange}`),
    limit: pageSize(50, 200).describe("How many answers, 1 to 200; a page also stops before 1 MiB"),
    cursor: cursorText.describe("next_cursor of the previous page, unchanged"),
  })
  .transform((query, context) => {
    if (!rangeInOrder(query.from, query.to, context)) return z.NEVER;
    let after: { at: Date; id: number } | null = null;
    if (query.cursor !== undefined) {
      after = decodeTimeCursor("rated-down", query.cursor);
      if (!after) {
        context.addIssue({ code: "custom", path: ["cursor"], message: "is not a cursor this API issued" });
        return z.NEVER;
      }
    }
    return { from: query.from ?? null, to: query.to ?? null, after, limit: query.limit };
  });

const hourMs = 3_600_000;
/** The longest period the ranked views add up: a year, each hour's rollup rows read once (docs/api.md §13.9). */
export const maxPeriodDays = 366;
const wholeHour = "must be a whole UTC hour (the views add up hourly figures), e.g. 2026-11-25 or 2026-11-25T08:00:00Z";

/**
 * A period of whole UTC hours, by default the 30 days up to the end of the current hour: what the
 * frequent questions and the cited sources add up, from the hourly rollups.
 */
const wholeHoursPeriod = {
  from: queryTime
    .optional()
    .describe(`Start of the period, inclusive, a whole UTC hour ${queryTimeRange}; default: 30 days before \`to\``),
  to: queryTime
    .optional()
    .describe(`End of the period, exclusive, a whole UTC hour ${queryTimeRange}; default: the end of the current hour`),
};

function periodOf(
  query: { from?: Date | undefined; to?: Date | undefined },
  context: Issues,
): { from: Date; to: Date } | null {
  for (const name of ["from", "to"] as const) {
    const time = query[name];
    if (time && time.getTime() % hourMs !== 0) {
      context.addIssue({ code: "custom", path: [name], message: wholeHour });
      return null;
    }
  }
  const to = query.to ?? new Date(Math.floor(Date.now() / hourMs) * hourMs + hourMs);
  const from = query.from ?? new Date(Math.max(to.getTime() - 30 * 24 * hourMs, earliestQueryTime));
  if (!rangeInOrder(from, to, context)) return null;
  if (to.getTime() - from.getTime() > maxPeriodDays * 24 * hourMs) {
    context.addIssue({ code: "custom", path: ["from"], message: `the period is longer than ${maxPeriodDays} days` });
    return null;
  }
  return { from, to };
}

/** The cursor of a ranked list, or an issue when it is none this API issued for that list. */
function rankedCursorOf(list: "q" | "c", text: string | undefined, context: Issues): RankedCursor | null | undefined {
  if (text === undefined) return null;
  const after = decodeRankedCursor(list, text);
  if (!after) context.addIssue({ code: "custom", path: ["cursor"], message: "is not a cursor this API issued" });
  return after ?? undefined;
}

export const adminFrequentQuestionsQuerySchema = z
  .object({
    ...wholeHoursPeriod,
    limit: pageSize(50, 200).describe("How many questions at most, 1 to 200; a page also stops before 1 MiB"),
    cursor: cursorText.describe("next_cursor of the previous page, unchanged, with the same from and to"),
  })
  .transform((query, context) => {
    const period = periodOf(query, context);
    const after = rankedCursorOf("q", query.cursor, context);
    if (!period || after === undefined) return z.NEVER;
    return { ...period, after, limit: query.limit };
  });

export const adminSourcesQuerySchema = z
  .object({
    ...wholeHoursPeriod,
    limit: pageSize(50, 200).describe("How many sources at most, 1 to 200; a page also stops before 1 MiB"),
    cursor: cursorText.describe("next_cursor of the previous page, unchanged, with the same from and to"),
  })
  .transform((query, context) => {
    const period = periodOf(query, context);
    const after = rankedCursorOf("c", query.cursor, context);
    if (!period || after === undefined) return z.NEVER;
    return { ...period, after, limit: query.limit };
  });

/** How many points of the collection one page of the passages never cited looks at, at most. */
export const maxPassagesLooked = 1000;

export const adminUncitedPassagesQuerySchema = z
  .object({
    ...wholeHoursPeriod,
    limit: pageSize(250, maxPassagesLooked).describe(
      `How many of the collection's points to look at, 1 to ${maxPassagesLooked}: the page holds those of them never cited`,
    ),
    cursor: cursorText.describe("next_cursor of the previous page, unchanged, with the same from and to"),
  })
  .transform((query, context) => {
    const period = periodOf(query, context);
    let fromPoint: number | string | null = null;
    if (query.cursor !== undefined) {
      fromPoint = decodePassagesCursor(query.cursor);
      if (fromPoint === null) {
        context.addIssue({ code: "custom", path: ["cursor"], message: "is not a cursor this API issued" });
        return z.NEVER;
      }
    }
    if (!period) return z.NEVER;
    return { ...period, fromPoint, limit: query.limit };
  });
