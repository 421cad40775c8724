/**
 * The passages never cited (GET /api/admin/sources/uncited, docs/api.md §13.11): a page of Qdrant's
 * collection at a time, those of its points whose source no answer of the period cites. The JSON
 * route and the CSV export (§13.12) read the same page.
 */
import type { z } from "zod";
import { type ListedPassage, listPassages } from "../answers/qdrant";
import type { RetrievalConfig } from "../config";
import { uncitedSources } from "../db/admin-sources";
import type { Database } from "../db/client";
import { fieldBytes, maxPageBytes } from "../db/pages";
import { retrievalUnavailable } from "../http/problem";
import { type adminUncitedPassagesQuerySchema, maxPassagesLooked } from "../schemas/admin";
import { encodePassagesCursor } from "../schemas/cursor";
import type { ExportedList, ListPage } from "./list-export";

export type UncitedPassagesQuery = z.output<typeof adminUncitedPassagesQuerySchema>;

/** A page of passages never cited, and how many points of the collection it looked at. */
export type UncitedPassagesPage = ListPage<UncitedPassagesQuery, ListedPassage> & { lookedAt: number };

/** How long the collection may take to list a page: an operator waits for it. */
const listingTimeoutMs = 5000;

/**
 * The most pages one download reads: each is a subrequest to Qdrant, and the Workers Free plan
 * allows 50 a request. 40 pages look at 40,000 points; a larger collection goes on from the cut
 * line's cursor (§13.12).
 */
export const maxUncitedPagesPerDownload = 40;

/**
 * The next `limit` points of the collection from the cursor on, those of them never cited in the
 * period, cut before 1 MiB as every admin list: the points after the last one shown are looked at
 * by the next page. Qdrant failing, or slower than 5 s: 503 retrieval_unavailable. With no Qdrant
 * configured (`retrieval` null), nothing is listed.
 */
export async function readUncitedPassages(
  db: Database,
  retrieval: RetrievalConfig | null,
  query: UncitedPassagesQuery,
): Promise<UncitedPassagesPage> {
  if (!retrieval) return { rows: [], lookedAt: 0, nextCursor: null, nextQuery: null };
  let listed: Awaited<ReturnType<typeof listPassages>>;
  try {
    listed = await listPassages(
      retrieval,
      { offset: query.fromPoint, limit: query.limit },
      AbortSignal.timeout(listingTimeoutMs),
    );
  } catch (error) {
    throw retrievalUnavailable(error);
  }
  const uncited = new Set(await uncitedSources(db, { ...query, sources: listed.passages }));
  const rows: ListedPassage[] = [];
  let bytes = 0;
  let lookedAt = 0;
  for (const [index, passage] of listed.passages.entries()) {
    if (uncited.has(index)) {
      const size = fieldBytes + new TextEncoder().encode(passage.title + (passage.url ?? "")).length;
      if (rows.length > 0 && bytes + size > maxPageBytes) break;
      bytes += size;
      rows.push(passage);
    }
    lookedAt = index + 1;
  }
  const nextPoint = lookedAt < listed.passages.length ? listed.passages[lookedAt]!.id : listed.nextOffset;
  return {
    rows,
    lookedAt,
    nextCursor: nextPoint === null ? null : encodePassagesCursor(nextPoint),
    nextQuery: nextPoint === null ? null : { ...query, fromPoint: nextPoint },
  };
}

/** The list as its CSV export reads it. */
export function uncitedPassagesList(
  retrieval: RetrievalConfig | null,
): ExportedList<UncitedPassagesQuery, ListedPassage> {
  return {
    name: "uncited-passages",
    pageSize: maxPassagesLooked,
    maxPages: maxUncitedPagesPerDownload,
    page: (db, query) => readUncitedPassages(db, retrieval, query),
    columns: {
      id: (passage) => passage.id,
      title: (passage) => passage.title,
      url: (passage) => passage.url,
    },
  };
}
