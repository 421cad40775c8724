import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { createApp } from "../../src/app";
import type { ChatResponse as ChatReply, HistoryPage, Problem } from "../../src/client";

export const origin = "http://chat.test";

/**
 * Each request comes from a fresh client address unless the test names one, so the per-address
 * rate limit only applies where a test means it to.
 */
function fromFreshClient(init: RequestInit): RequestInit {
  const headers = new Headers(init.headers);
  if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", `test-${crypto.randomUUID()}`);
  return { ...init, headers };
}

/** Sends a request to the Worker's own fetch handler, as the runtime would. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(new URL(path, origin), fromFreshClient(init)));
}

/**
 * Sends a request to an app instance (a substituted responder, say) with the test pool's bindings
 * and `bindings` over them. `finished` waits for the work the request left to ctx.waitUntil.
 */
export async function callApp(
  app: ReturnType<typeof createApp>,
  path: string,
  init: RequestInit = {},
  bindings: Partial<Env> = {},
): Promise<{ response: Response; finished: () => Promise<void> }> {
  const ctx = createExecutionContext();
  const response = await app.request(path, fromFreshClient(init), { ...env, ...bindings }, ctx);
  return { response, finished: () => waitOnExecutionContext(ctx) };
}

export function chatRequest(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) };
}

export function postChat(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call("/api/chat", chatRequest(body, headers));
}

// The service's own types, as the typed client (src/client.ts) gives them to a front end.
export type { ChatResponse as ChatReply, HistoryPage, Message, Problem } from "../../src/client";

/** Asks a question and expects a 200 turn. */
export async function ask(question: string, extra: Record<string, unknown> = {}): Promise<ChatReply> {
  const response = await postChat({ question, ...extra });
  expect(response.status, await cloneText(response)).toBe(200);
  return response.json();
}

export async function history(sessionUuid: string, query = ""): Promise<HistoryPage> {
  const response = await call(`/api/sessions/${sessionUuid}/messages${query}`);
  expect(response.status, await cloneText(response)).toBe(200);
  return response.json();
}

/** Asserts the response is the RFC 9457 problem of docs/api.md §7 with this status and code. */
export async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  const problem = JSON.parse(text) as Problem;
  expect(problem).toMatchObject({ type: "about:blank", status, code });
  expect(problem.title).toEqual(expect.any(String));
  expect(problem.detail).toEqual(expect.any(String));
  expect(problem.request_id).toBe(response.headers.get("X-Request-Id"));
  return problem;
}

function cloneText(response: Response): Promise<string> {
  return response.clone().text();
}
