/**
 * History cursors: the order and the last seq of the previous page, base64url-encoded so that
 * clients treat them as opaque. The order is inside so a cursor cannot be replayed with the
 * other order, which would silently return the wrong page.
 */
export type Cursor = { order: "asc" | "desc"; afterSeq: number };

const cursorPattern = /^v1:(asc|desc):([1-9]\d{0,9})$/;

export function encodeCursor(cursor: Cursor): string {
  return btoa(`v1:${cursor.order}:${cursor.afterSeq}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(text: string): Cursor | null {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(text)) return null;
  let decoded: string;
  try {
    decoded = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const match = cursorPattern.exec(decoded);
  if (!match) return null;
  const afterSeq = Number(match[2]);
  if (afterSeq > 2_147_483_647) return null;
  return { order: match[1] as Cursor["order"], afterSeq };
}

/**
 * A page out of the `limit + 1` rows a history query read (listMessages): the first `limit`, and
 * the cursor that continues after them, null when that extra row was not there.
 */
export function toPage<Row extends { seq: number }>(
  rows: Row[],
  query: { limit: number; order: Cursor["order"] },
): { rows: Row[]; nextCursor: string | null } {
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const hasMore = rows.length > query.limit && last !== undefined;
  return { rows: page, nextCursor: hasMore ? encodeCursor({ order: query.order, afterSeq: last.seq }) : null };
}
