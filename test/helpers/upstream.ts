/**
 * Test-side client of the fake upstream (test/fakes/upstream-server.ts): runs inside workerd, so it
 * uses only fetch. Every test takes its own key (newKey()), makes the service send it as the
 * OpenAI bearer token and the Qdrant api-key, scripts the upstreams with setScenario and reads
 * back what the service sent with recordedRequests.
 */

import { env } from "cloudflare:workers";
import { inject } from "vitest";
import type { RecordedRequest, Scenario } from "../fakes/scenario";

export type { RecordedRequest, Scenario } from "../fakes/scenario";

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

/** The configuration of a fully set-up service (model and Qdrant), pointed at the fake with `key`. */
export function ragEnv(key: string, overrides: Record<string, string | undefined> = {}): Env {
  const upstream = inject("fakeUpstreamUrl");
  return {
    ...env,
    LLM_BASE_URL: `${upstream}/v1`,
    LLM_API_KEY: key,
    LLM_MODEL: "fake-chat-model",
    EMBEDDING_MODEL: "fake-embedding-model",
    QDRANT_URL: `${upstream}/qdrant`,
    QDRANT_API_KEY: key,
    QDRANT_COLLECTION: "humanoid-book",
    RAG_TOP_K: "3",
    ...overrides,
  } as Env;
}
