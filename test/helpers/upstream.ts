/**
 * Test-side client of the fake upstream (test/fakes/upstream-server.ts): runs inside workerd, so it
 * uses only fetch. Every test takes its own key (newKey()), makes the service send it as the
 * OpenAI bearer token and the Qdrant api-key, scripts the upstreams with setScenario and reads
 * back what the service sent with recordedRequests. The types mirror the server's.
 */

export type Failure = {
  /** Answer with this status (and `body`, or a default error body for the upstream). */
  status?: number;
  /** Answer with this raw body (status 200 unless `status` is set); e.g. "not json{". */
  body?: string;
  /** Wait this long before answering (or before hanging/destroying). */
  delayMs?: number;
  /** Never answer; the socket stays open until the client gives up or the fake closes. */
  hang?: boolean;
  /** Destroy the socket without an HTTP response. */
  destroy?: boolean;
};

export type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

export type QdrantPoint = { id: number | string; score: number; payload: Record<string, unknown> };

export type Scenario = {
  embeddings?: Failure & { vector?: number[] };
  chat?: Failure & {
    text?: string;
    chunks?: string[];
    chunkDelayMs?: number;
    /** streaming: after this many chunks stop sending but keep the stream open (a stalled model) */
    stallAfterChunks?: number;
    usage?: Usage;
  };
  qdrant?: Failure & { collection?: string; points?: QdrantPoint[] };
};

export type RecordedRequest = {
  method: string;
  /** Path and query string, e.g. "/v1/chat/completions" or "/qdrant/collections/book/points/search". */
  path: string;
  /** Lower-cased header names → values. */
  headers: Record<string, string>;
  /** Parsed JSON, the raw string when it was not JSON, or null when there was no body. */
  body: any;
};

/** A fresh credential that partitions the fake's state for one test. */
export function newKey(): string {
  return `test-key-${crypto.randomUUID()}`;
}

/** Replaces the key's scenario and forgets the requests recorded for it. */
export async function setScenario(baseUrl: string, key: string, scenario: Scenario): Promise<void> {
  const response = await fetch(controlUrl(baseUrl, "scenarios", key), {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(scenario),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`fake upstream: setting the scenario failed with ${response.status}: ${text}`);
}

/** The requests recorded for the key, in arrival order. */
export async function recordedRequests(baseUrl: string, key: string): Promise<RecordedRequest[]> {
  const response = await fetch(controlUrl(baseUrl, "requests", key));
  const text = await response.text();
  if (!response.ok) throw new Error(`fake upstream: reading the requests failed with ${response.status}: ${text}`);
  return JSON.parse(text) as RecordedRequest[];
}

function controlUrl(baseUrl: string, kind: "scenarios" | "requests", key: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/__fake/${kind}/${encodeURIComponent(key)}`;
}
