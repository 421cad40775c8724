/** Retrieval of the book's passages from a Qdrant collection over its REST API. */
import type { RetrievalConfig } from "../config";
import { isSourceUrl, type Source } from "../conversation";
import { toStorableText } from "../storable-text";
import { postJson, readJson, UpstreamError } from "./upstream";

export type Passage = Source & { text: string };

const snippetLength = 300;

export async function searchPassages(
  config: RetrievalConfig,
  vector: number[],
  signal: AbortSignal,
): Promise<Passage[]> {
  const headers: Record<string, string> = config.apiKey ? { "api-key": config.apiKey } : {};
  const url = `${config.url}/collections/${encodeURIComponent(config.collection)}/points/search`;
  const response = await postJson("qdrant", url, headers, { vector, limit: config.topK, with_payload: true }, signal);
  const body = await readJson<SearchBody>("qdrant", response);
  if (!Array.isArray(body?.result)) throw new UpstreamError("qdrant", "the answer holds no result list");
  return body.result.map((point) => toPassage(config, point));
}

// What we read of a search answer; see readJson.
type Point = { score?: unknown; payload?: Record<string, unknown> } | null;
type SearchBody = { result?: Point[] };

/** A point as a passage the service can store and show: storable text, a link only if it is one. */
function toPassage(config: RetrievalConfig, point: Point): Passage {
  const payload = point?.payload ?? {};
  const text = storableStringOr(payload[config.payloadKeys.text], "");
  return {
    ...sourceOf(config, payload),
    snippet: [...text].length > snippetLength ? `${[...text].slice(0, snippetLength).join("")}…` : text,
    score: typeof point?.score === "number" ? point.score : 0,
    text,
  };
}

/** The title and url an answer stores for a point with this payload. */
function sourceOf(config: RetrievalConfig, payload: Record<string, unknown>): Pick<Source, "title" | "url"> {
  const url = storableStringOr(payload[config.payloadKeys.url], null);
  return {
    title: storableStringOr(payload[config.payloadKeys.title], "Untitled passage"),
    url: url !== null && isSourceUrl(url) ? url : null,
  };
}

/** A point's id: Qdrant's ids are unsigned integers or UUIDs. */
export type PointId = number | string;

/** A passage of the collection as an answer would cite it: its point's id, and its source's title and url. */
export type ListedPassage = { id: PointId; title: string; url: string | null };

/**
 * Up to `limit` points of the collection in the order of their ids, from `offset` (inclusive) or
 * the first, each as the title and url an answer citing it would store, and the id of the point
 * after them (null at the end). Qdrant's scroll, asking for those two payload keys and no vectors:
 * a page costs what its points' payload keys cost, not what the collection holds.
 */
export async function listPassages(
  config: RetrievalConfig,
  page: { offset: PointId | null; limit: number },
  signal: AbortSignal,
): Promise<{ passages: ListedPassage[]; nextOffset: PointId | null }> {
  const headers: Record<string, string> = config.apiKey ? { "api-key": config.apiKey } : {};
  const url = `${config.url}/collections/${encodeURIComponent(config.collection)}/points/scroll`;
  const body = {
    limit: page.limit,
    ...(page.offset === null ? {} : { offset: page.offset }),
    with_payload: [config.payloadKeys.title, config.payloadKeys.url],
    with_vector: false,
  };
  const answer = await readJson<ScrollBody>("qdrant", await postJson("qdrant", url, headers, body, signal));
  const points = answer?.result?.points;
  if (!Array.isArray(points)) throw new UpstreamError("qdrant", "the answer holds no list of points");
  const nextOffset = answer?.result?.next_page_offset ?? null;
  if (nextOffset !== null && !isPointId(nextOffset))
    throw new UpstreamError("qdrant", "the next page offset is no point id");
  return {
    passages: points.map((point) => {
      if (!isPointId(point?.id)) throw new UpstreamError("qdrant", "a point has no id");
      return { id: point.id, ...sourceOf(config, point?.payload ?? {}) };
    }),
    nextOffset,
  };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isPointId(value: unknown): value is PointId {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0;
  return typeof value === "string" && uuidPattern.test(value);
}

// What we read of a scroll answer; see readJson.
type ScrollBody = {
  result?: { points?: ({ id?: unknown; payload?: Record<string, unknown> } | null)[]; next_page_offset?: unknown };
};

function storableStringOr<Fallback extends string | null>(value: unknown, fallback: Fallback): string | Fallback {
  return typeof value === "string" ? toStorableText(value) : fallback;
}
