/**
 * The admin API as the page reads it: one function per endpoint, each typed by the schema its
 * route answers with (src/schemas/responses.ts), so a renamed or retyped field fails to compile
 * here. The types are imported as types only: no zod in the page.
 */
import type { z } from "zod";
import type {
  adminSessionsPageSchema,
  citedSourcesPageSchema,
  contentGapsPageSchema,
  conversationSchema,
  frequentQuestionsPageSchema,
  ratedDownPageSchema,
  searchPageSchema,
  statsSchema,
  uncitedPassagesPageSchema,
} from "../../schemas/responses";

export type Stats = z.output<typeof statsSchema>;
export type SessionsPage = z.output<typeof adminSessionsPageSchema>;
export type AdminSession = SessionsPage["sessions"][number];
export type SearchPage = z.output<typeof searchPageSchema>;
export type SearchHit = SearchPage["hits"][number];
export type Conversation = z.output<typeof conversationSchema>;
export type AdminMessage = Conversation["messages"][number];
export type ContentGapsPage = z.output<typeof contentGapsPageSchema>;
export type ContentGap = ContentGapsPage["gaps"][number];
export type RatedDownPage = z.output<typeof ratedDownPageSchema>;
export type RatedDownAnswer = RatedDownPage["answers"][number];
export type FrequentQuestionsPage = z.output<typeof frequentQuestionsPageSchema>;
export type FrequentQuestion = FrequentQuestionsPage["questions"][number];
export type CitedSourcesPage = z.output<typeof citedSourcesPageSchema>;
export type CitedSource = CitedSourcesPage["sources"][number];
export type UncitedPassagesPage = z.output<typeof uncitedPassagesPageSchema>;
export type UncitedPassage = UncitedPassagesPage["passages"][number];

/** The admin token, kept in sessionStorage: this tab only, gone when it closes. */
const tokenKey = "chat-history-admin-token";

export const adminToken = {
  read: (): string | null => sessionStorage.getItem(tokenKey),
  keep: (token: string): void => sessionStorage.setItem(tokenKey, token),
  forget: (): void => sessionStorage.removeItem(tokenKey),
};

/** The API refused the token: the page asks for it again. */
export class Unauthorized extends Error {}

type QueryParameters = Record<string, string | number | null | undefined>;

async function getJson<T>(path: string, parameters: QueryParameters): Promise<T> {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  const response = await fetch(url, {
    headers: { Authorization: `Bearer ${adminToken.read() ?? ""}`, Accept: "application/json" },
    cache: "no-store",
  });
  const body = await response.json().catch(() => null);
  const detail = typeof body?.detail === "string" ? body.detail : null;
  if (response.status === 401) throw new Unauthorized(detail ?? "unauthorized");
  if (!response.ok) throw new Error(detail ?? `HTTP ${response.status}`);
  return body;
}

/** GET /api/admin/stats: by day between from and to, or by hour over the last 48 hours. */
export function readStats(range: { bucket: "day" | "hour"; from?: string; to?: string }): Promise<Stats> {
  return getJson("/api/admin/stats", range);
}

/** GET /api/admin/sessions, with the filter form's fields as they are named there. */
export function listSessions(filter: Record<string, string>, cursor: string | null): Promise<SessionsPage> {
  return getJson("/api/admin/sessions", { ...filter, cursor });
}

/** GET /api/admin/search; `sender` "user" or "bot" keeps to questions or answers, "" searches both. */
export function searchMessages(
  search: { q: string; sender: "" | "user" | "bot" },
  cursor: string | null,
): Promise<SearchPage> {
  return getJson("/api/admin/search", { ...search, cursor });
}

export function readConversation(sessionUuid: string, cursor: string | null): Promise<Conversation> {
  return getJson(`/api/admin/sessions/${encodeURIComponent(sessionUuid)}`, { limit: 200, cursor });
}

/** GET /api/admin/gaps, with the gaps form's fields (from, to, below) as they are named there. */
export function listContentGaps(filter: Record<string, string>, cursor: string | null): Promise<ContentGapsPage> {
  return getJson("/api/admin/gaps", { ...filter, cursor });
}

/** GET /api/admin/rated-down, with the form's fields (from, to) as they are named there. */
export function listRatedDown(filter: Record<string, string>, cursor: string | null): Promise<RatedDownPage> {
  return getJson("/api/admin/rated-down", { ...filter, cursor });
}

/** A period of whole UTC hours, as the frequent questions and the sources take it. */
export type Period = { from: string; to: string };

/** GET /api/admin/frequent-questions. */
export function listFrequentQuestions(period: Period, cursor: string | null): Promise<FrequentQuestionsPage> {
  return getJson("/api/admin/frequent-questions", { ...period, cursor });
}

/** GET /api/admin/sources. */
export function listCitedSources(period: Period, cursor: string | null): Promise<CitedSourcesPage> {
  return getJson("/api/admin/sources", { ...period, cursor });
}

/** GET /api/admin/sources/uncited: the next 1,000 points of the collection, those never cited. */
export function listUncitedPassages(period: Period, cursor: string | null): Promise<UncitedPassagesPage> {
  return getJson("/api/admin/sources/uncited", { ...period, limit: 1000, cursor });
}

/** A list's CSV download (docs/api.md §13.12) as the API sent it: the file and the name it gave it. */
export type CsvFile = { blob: Blob; fileName: string };

/**
 * GET a list's `.csv` route with the token. A download the server breaks (a database failure
 * after the first page) rejects here, as a network error does: no part of it is kept.
 */
export async function getCsv(path: string, parameters: QueryParameters): Promise<CsvFile> {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  const response = await fetch(url, {
    headers: { Authorization: `Bearer ${adminToken.read() ?? ""}`, Accept: "text/csv" },
    cache: "no-store",
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const detail = typeof body?.detail === "string" ? body.detail : null;
    if (response.status === 401) throw new Unauthorized(detail ?? "unauthorized");
    throw new Error(detail ?? `HTTP ${response.status}`);
  }
  const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "");
  return { blob: await response.blob(), fileName: named?.[1] ?? "download.csv" };
}
