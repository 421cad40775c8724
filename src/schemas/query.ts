/** The forms a query parameter's value takes: an integer, a time. Every query schema reads them from here. */
import { z } from "zod";

/**
 * An integer written as plain decimal digits, from `min` to `max`; `fallback` when it is left out. Not z.coerce.number, which
 * takes whatever Number() takes: `0x10`, `1e3`, `+5`, ` 5`, `5 `, `0b1`. A client that sends one
 * of those means something this API does not say, so it is told, not guessed at. The OpenAPI
 * document shows the integer's rules (the JSON Schema of the number, after the digits are read).
 */
export function queryInteger(min: number, max: number, fallback: number) {
  const rule = `must be an integer from ${min} to ${max}, in decimal digits`;
  return z.preprocess(
    (value) => (typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value),
    // The default inside, on the number, where the OpenAPI document reads it.
    z.number({ error: rule }).int(rule).min(min, rule).max(max, rule).default(fallback),
  );
}

/**
 * The times a query may name: 2000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z. PostgreSQL's
 * timestamptz ends at 4713 BC and 294276 AD and refuses a year 0, and a JS Date ends at ±275,760
 * years; a time outside them was a 500 (SQLSTATE 22008, 22009). This service started in 2026 and
 * an import refuses a timestamp before 2000 (schemas/import.ts), so nothing stored lies outside
 * this range, and an RFC 3339 year has four digits.
 */
export const earliestQueryTime = Date.UTC(2000, 0, 1);
export const latestQueryTime = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const queryTimeRange = "from 2000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z";

/** Whether a time (milliseconds since 1970) lies in the range a query may name. */
export function isQueryTime(time: number): boolean {
  return time >= earliestQueryTime && time <= latestQueryTime;
}

/** A date (midnight UTC) or an RFC 3339 time with its zone, in the range a query may name. */
export const queryTime = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], {
    error: "must be a date (2026-11-25, midnight UTC) or an RFC 3339 time (2026-11-25T08:00:00Z)",
  })
  .transform((value) => new Date(value))
  .refine((time) => isQueryTime(time.getTime()), `must be a time ${queryTimeRange}`);
