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
  const url = storableStringOr(payload[config.payloadKeys.url], null);
  return {
    title: storableStringOr(payload[config.payloadKeys.title], "Untitled passage"),
    url: url !== null && isSourceUrl(url) ? url : null,
    snippet: [...text].length > snippetLength ? `${[...text].slice(0, snippetLength).join("")}…` : text,
    score: typeof point?.score === "number" ? point.score : 0,
    text,
  };
}

function storableStringOr<Fallback extends string | null>(value: unknown, fallback: Fallback): string | Fallback {
  return typeof value === "string" ? toStorableText(value) : fallback;
}
