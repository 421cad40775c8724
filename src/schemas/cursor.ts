/**
 * History cursors: the order and the last seq of the previous page, base64url-encoded so that
 * clients treat them as opaque. The order is inside so a cursor cannot be replayed with the
 * other order, which would silently return the wrong page.
 */
import { maxPageBytes } from "../db/pages";
import { type RankedCursor, rankedPrefixLength } from "../db/ranked";
import { isQueryTime } from "./query";

export type Cursor = { order: "asc" | "desc"; afterSeq: number };

const cursorPattern = /^v1:(asc|desc):([1-9]\d{0,9})$/;

export function encodeCursor(cursor: Cursor): string {
  return encode(`v1:${cursor.order}:${cursor.afterSeq}`);
}

export function decodeCursor(text: string): Cursor | null {
  const match = cursorPattern.exec(decode(text) ?? "");
  if (!match) return null;
  const afterSeq = Number(match[2]);
  if (afterSeq > 2_147_483_647) return null;
  return { order: match[1] as Cursor["order"], afterSeq };
}

/**
 * A page out of the rows a paged query read, the page's and one more when more follow: the first
 * `limit`, and fewer when the rows carry their page's running size (`pageBytes`) and the next one
 * would pass maxPageBytes, never fewer than one. With it the cursor that continues after the last
 * of them (`cursorAfter`), null when the query read no row after it.
 */
export function pageOf<Row extends object>(
  rows: Row[],
  limit: number,
  cursorAfter: (last: Row) => string,
): { rows: Row[]; nextCursor: string | null } {
  let length = Math.min(rows.length, limit);
  while (length > 1 && pageBytesUpTo(rows[length - 1]!) > maxPageBytes) length--;
  const page = rows.slice(0, length);
  const last = page.at(-1);
  const hasMore = rows.length > length && last !== undefined;
  return { rows: page, nextCursor: hasMore ? cursorAfter(last) : null };
}

/** The running size of the page up to this row; 0 for rows a query does not size. */
function pageBytesUpTo(row: object): number {
  return "pageBytes" in row && typeof row.pageBytes === "number" ? row.pageBytes : 0;
}

/** A page of a history query (listMessages), continued by seq in the page's order. */
export function toPage<Row extends { seq: number }>(
  rows: Row[],
  query: { limit: number; order: Cursor["order"] },
): { rows: Row[]; nextCursor: string | null } {
  return pageOf(rows, query.limit, (last) => encodeCursor({ order: query.order, afterSeq: last.seq }));
}

// The admin API's cursors, opaque like the history's: the position after the previous page.
const sessionsCursorPattern = /^v1:s:(-?\d{1,15}):([1-9]\d{0,15})$/;
const searchCursorPattern = /^v1:m:([1-9]\d{0,15})$/;

/** base64url without padding. */
function encode(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decode(text: string, maxLength = 48): string | null {
  if (text.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    return atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
}

/** The admin list of sessions: the last session's activity (milliseconds) and id. */
export function encodeSessionsCursor(after: { activity: Date; id: number }): string {
  return encode(`v1:s:${after.activity.getTime()}:${after.id}`);
}

export function decodeSessionsCursor(text: string): { activity: Date; id: number } | null {
  const match = sessionsCursorPattern.exec(decode(text) ?? "");
  if (!match) return null;
  const activity = new Date(Number(match[1]));
  const id = Number(match[2]);
  // No session of this service was active outside that range; PostgreSQL refuses some times outside it.
  return isQueryTime(activity.getTime()) && Number.isSafeInteger(id) ? { activity, id } : null;
}

/** The admin search: the id of the last hit, hits being newest first. */
export function encodeSearchCursor(lastId: number): string {
  return encode(`v1:m:${lastId}`);
}

export function decodeSearchCursor(text: string): number | null {
  const match = searchCursorPattern.exec(decode(text) ?? "");
  const id = match ? Number(match[1]) : Number.NaN;
  return Number.isSafeInteger(id) ? id : null;
}

// The content gaps and the answers rated down: the time (milliseconds) and id of the page's last
// row, with a letter for the list, so that one list's cursor is refused by the other.
const timeCursorPattern = /^v1:([gd]):(-?\d{1,15}):([1-9]\d{0,15})$/;
type TimeCursorList = "gaps" | "rated-down";
const timeCursorLetters: Record<TimeCursorList, string> = { gaps: "g", "rated-down": "d" };

/** A list ordered by a time, then an id, both descending: the last row's time and id. */
export function encodeTimeCursor(list: TimeCursorList, after: { at: Date; id: number }): string {
  return encode(`v1:${timeCursorLetters[list]}:${after.at.getTime()}:${after.id}`);
}

export function decodeTimeCursor(list: TimeCursorList, text: string): { at: Date; id: number } | null {
  const match = timeCursorPattern.exec(decode(text) ?? "");
  if (!match || match[1] !== timeCursorLetters[list]) return null;
  const at = new Date(Number(match[2]));
  const id = Number(match[3]);
  return isQueryTime(at.getTime()) && Number.isSafeInteger(id) ? { at, id } : null;
}

/**
 * The position after a row of a ranked list (the frequent questions, the cited sources; db/ranked.ts):
 * its count, the start of its name and the MD5 of its identity. Not the whole name, which may run
 * to thousands of characters: a cursor has to fit in a URL. `list` is inside, so one list's cursor
 * is refused by the other.
 */
const rankedCursorPattern = /^v1:(q|c):(\d{1,10}):([0-9a-f]{32}):(.*)$/s;

export function encodeRankedCursor(list: "q" | "c", after: RankedCursor): string {
  return encode(encodeUtf8(`v1:${list}:${after.count}:${after.hash}:${after.prefix}`));
}

export function decodeRankedCursor(list: "q" | "c", text: string): RankedCursor | null {
  if (text.length > rankedCursorMaxLength) return null;
  const decoded = decodeUtf8(decode(text, rankedCursorMaxLength));
  const match = rankedCursorPattern.exec(decoded ?? "");
  if (!match || match[1] !== list) return null;
  const count = Number(match[2]);
  const prefix = match[4]!;
  if (count > 2_147_483_647 || [...prefix].length > rankedPrefixLength) return null;
  return { count, hash: match[3]!, prefix };
}

/** Base64 of the UTF-8 of 200 characters of up to 4 bytes and the fields around them. */
const rankedCursorMaxLength = 1200;

/** Text as the Latin-1 string of its UTF-8 bytes, which btoa takes. */
function encodeUtf8(text: string): string {
  return String.fromCharCode(...new TextEncoder().encode(text));
}

function decodeUtf8(bytes: string | null): string | null {
  if (bytes === null) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      Uint8Array.from(bytes, (char) => char.charCodeAt(0)),
    );
  } catch {
    return null;
  }
}

/**
 * The passages never cited: the id of the first point of the collection not yet looked at, a
 * Qdrant point id (an unsigned integer or a UUID), as Qdrant's scroll takes it for its offset.
 */
const passagesCursorPattern = /^v1:p:(?:(\d{1,16})|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))$/;

export function encodePassagesCursor(nextPoint: number | string): string {
  return encode(`v1:p:${typeof nextPoint === "string" ? nextPoint.toLowerCase() : nextPoint}`);
}

export function decodePassagesCursor(text: string): number | string | null {
  const match = passagesCursorPattern.exec(decode(text, 64) ?? "");
  if (!match) return null;
  if (match[2] !== undefined) return match[2];
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : null;
}
