/** Retrieval of the book's passages from a Qdrant collection over its REST API. */
import type { RetrievalConfig } from "../config";
import type { Source } from "../schemas/responses";
import { UpstreamError } from "./responder";

export type Passage = Source & { text: string };

const snippetLength = 300;

export async function searchPassages(config: RetrievalConfig, vector: number[], signal: AbortSignal): Promise<Passage[]> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (config.apiKey) headers["api-key"] = config.apiKey;
  const url = `${config.url}/collections/${encodeURIComponent(config.collection)}/points/search`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ vector, limit: config.topK, with_payload: true }),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new UpstreamError("qdrant", "Qdrant could not be reached", { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UpstreamError("qdrant", `Qdrant answered HTTP ${response.status}`);
  }
  let body: any;
  try {
    body = await response.json();
  } catch (error) {
    throw new UpstreamError("qdrant", "Qdrant answered with malformed JSON", { cause: error });
  }
  if (!Array.isArray(body?.result)) throw new UpstreamError("qdrant", "Qdrant's answer holds no result list");
  return body.result.map((point: any) => toPassage(config, point));
}

function toPassage(config: RetrievalConfig, point: any): Passage {
  const payload = point?.payload ?? {};
  const text = stringOr(payload[config.payloadKeys.text], "");
  return {
    title: stringOr(payload[config.payloadKeys.title], "Untitled passage"),
    url: typeof payload[config.payloadKeys.url] === "string" ? payload[config.payloadKeys.url] : null,
    snippet: [...text].length > snippetLength ? `${[...text].slice(0, snippetLength).join("")}…` : text,
    score: typeof point?.score === "number" ? point.score : 0,
    text,
  };
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}
