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
