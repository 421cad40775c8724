/**
 * A real HTTP fake of the two upstreams the service calls: an OpenAI-compatible API
 * (`/v1/embeddings`, `/v1/chat/completions`) and Qdrant's REST API (mounted under `/qdrant`).
 *
 * Runs in Node (the vitest global setup starts it); it imports only node: builtins. Test files run
 * in parallel against one instance, so every piece of state is partitioned by a per-test key: the
 * credential the service sends, `Authorization: Bearer <KEY>` on the OpenAI paths and
 * `api-key: <KEY>` on the Qdrant paths. A key with no scenario set answers with the defaults; a
 * request without a credential is recorded under the key "".
 *
 * Control API (no auth, not recorded):
 *   PUT /__fake/scenarios/:key  body = Scenario  → 204; replaces the key's scenario, clears its requests
 *   GET /__fake/requests/:key                    → 200 RecordedRequest[] in arrival order
 *
 * Keep this file within what `node --experimental-strip-types` can run: no enums, namespaces or
 * parameter properties. The scenario types live in ./scenario.ts, shared with the workerd side.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

import type { Failure, QdrantPoint, RecordedRequest, Scenario, Usage } from "./scenario.ts";

export type { Failure, QdrantPoint, RecordedRequest, Scenario, Usage } from "./scenario.ts";

export const DEFAULT_VECTOR: readonly number[] = [0.1, 0.2, 0.3];
export const DEFAULT_TEXT = "Fake answer.";
export const DEFAULT_USAGE: Usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
export const DEFAULT_POINTS: readonly QdrantPoint[] = [
  {
    id: 1,
    score: 0.91,
    payload: {
      title: "Chapter 3: Balance",
      url: "https://book.example/ch3",
      text: "The zero moment point (ZMP) is the point on the ground where the net moment of the inertial and gravity forces has no horizontal component.",
    },
  },
  {
    id: 2,
    score: 0.84,
    payload: {
      title: "Chapter 5: Walking",
      url: "https://book.example/ch5",
      text: "A walking gait alternates single and double support phases while keeping the ZMP inside the support polygon.",
    },
  },
];

/** Qdrant's order of point ids: unsigned integers first, by value, then UUIDs. */
function comparePointIds(a: { id: number | string }, b: { id: number | string }): number {
  if (typeof a.id === "number" && typeof b.id === "number") return a.id - b.id;
  if (typeof a.id === "number") return -1;
  if (typeof b.id === "number") return 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

type KeyState = { scenario: Scenario; requests: RecordedRequest[] };

class Aborted extends Error {}

export async function startFakeUpstream(): Promise<{ url: string; close: () => Promise<void> }> {
  const states = new Map<string, KeyState>();
  const sockets = new Set<Socket>();
  /** Aborted by close(): ends every pending delay, chunk wait and hang. */
  const shutdown = new AbortController();

  function stateFor(key: string): KeyState {
    let state = states.get(key);
    if (!state) {
      state = { scenario: {}, requests: [] };
      states.set(key, state);
    }
    return state;
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof Aborted) return;
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 500, { error: { message: `fake upstream error: ${String(error)}` } });
      } else {
        res.destroy();
      }
    });
  });
  server.on("connection", (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const path = url.pathname;
    const method = req.method ?? "GET";

    // Control API.
    if (path.startsWith("/__fake/")) {
      const scenarioMatch = /^\/__fake\/scenarios\/(.*)$/.exec(path);
      if (scenarioMatch && method === "PUT") {
        let scenario: Scenario;
        try {
          scenario = raw === "" ? {} : (JSON.parse(raw) as Scenario);
        } catch {
          return sendJson(res, 400, { error: "scenario body must be JSON" });
        }
        if (scenario === null || typeof scenario !== "object" || Array.isArray(scenario)) {
          return sendJson(res, 400, { error: "scenario must be a JSON object" });
        }
        states.set(decodeURIComponent(scenarioMatch[1] ?? ""), { scenario, requests: [] });
        res.writeHead(204).end();
        return;
      }
      const requestsMatch = /^\/__fake\/requests\/(.*)$/.exec(path);
      if (requestsMatch && method === "GET") {
        const state = states.get(decodeURIComponent(requestsMatch[1] ?? ""));
        return sendJson(res, 200, state ? state.requests : []);
      }
      return sendJson(res, 404, { error: `no control route ${method} ${path}` });
    }

    // Upstream routes: record first, then behave as the key's scenario says.
    const isQdrant = path === "/qdrant" || path.startsWith("/qdrant/");
    const key = isQdrant ? apiKey(req) : bearer(req);
    const state = stateFor(key);
    state.requests.push({ method, path: path + url.search, headers: flatHeaders(req), body: parseBody(raw) });
    const scenario = state.scenario;

    // Ends when close() runs or the client goes away, whichever is first.
    const local = new AbortController();
    const onShutdown = () => local.abort();
    shutdown.signal.addEventListener("abort", onShutdown, { once: true });
    res.on("close", () => {
      shutdown.signal.removeEventListener("abort", onShutdown);
      local.abort();
    });
    const signal = local.signal;

    if (method === "POST" && path === "/v1/embeddings") {
      const s = scenario.embeddings ?? {};
      if (await failure(req, res, s, signal, openAiError)) return;
      const body = asObject(parseBody(raw));
      const inputs = Array.isArray(body.input) ? body.input : [body.input ?? ""];
      const tokens = inputs.reduce<number>((sum, input) => sum + countTokens(input), 0);
      const vector = s.vector ?? DEFAULT_VECTOR;
      return sendJson(res, 200, {
        object: "list",
        data: inputs.map((_, index) => ({ object: "embedding", index, embedding: [...vector] })),
        model: body.model ?? null,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    }

    if (method === "POST" && path === "/v1/chat/completions") {
      const s = scenario.chat ?? {};
      if (await failure(req, res, s, signal, openAiError)) return;
      const body = asObject(parseBody(raw));
      const model = s.model ?? body.model ?? null;
      const text = s.text ?? (s.chunks ? s.chunks.join("") : DEFAULT_TEXT);
      const usage = s.usage ?? DEFAULT_USAGE;
      if (body.stream !== true) {
        return sendJson(res, 200, {
          id: "chatcmpl-fake",
          object: "chat.completion",
          model,
          choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
          usage,
        });
      }
      const chunks = s.chunks ?? splitWords(text);
      const includeUsage = asObject(body.stream_options).include_usage === true;
      res.writeHead(200, {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        Connection: "keep-alive",
      });
      res.flushHeaders();
      const event = (choices: unknown[], extra: Record<string, unknown> = {}) =>
        res.write(
          `data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", model, choices, ...extra })}\n\n`,
        );
      for (let i = 0; i < chunks.length; i++) {
        if (s.stallAfterChunks !== undefined && i >= s.stallAfterChunks) return hang(signal);
        if (i > 0 && s.chunkDelayMs) await sleep(s.chunkDelayMs, signal);
        const content = s.stampChunks ? `<t:${Date.now()}>` : chunks[i];
        const delta = i === 0 ? { role: "assistant", content } : { content };
        event([{ index: 0, delta, finish_reason: null }]);
      }
      // Stalling after the last content chunk: the finish chunk and [DONE] never come.
      if (s.stallAfterChunks !== undefined && s.stallAfterChunks <= chunks.length) return hang(signal);
      event([{ index: 0, delta: {}, finish_reason: "stop" }]);
      if (includeUsage) event([], { usage });
      res.end("data: [DONE]\n\n");
      return;
    }

    const searchMatch = /^\/qdrant\/collections\/([^/]+)\/points\/search$/.exec(path);
    if (method === "POST" && searchMatch) {
      const s = scenario.qdrant ?? {};
      if (await failure(req, res, s, signal, qdrantError)) return;
      const name = decodeURIComponent(searchMatch[1] ?? "");
      if (s.collection !== undefined && s.collection !== name) {
        return sendJson(res, 404, { status: { error: `Not found: Collection \`${name}\` doesn't exist!` }, time: 0 });
      }
      const body = asObject(parseBody(raw));
      const points = s.points ?? DEFAULT_POINTS;
      const limit = typeof body.limit === "number" && body.limit >= 0 ? Math.floor(body.limit) : points.length;
      const withPayload = body.with_payload !== false;
      return sendJson(res, 200, {
        result: points.slice(0, limit).map((point) => ({
          id: point.id,
          version: 0,
          score: point.score,
          payload: withPayload ? point.payload : null,
        })),
        status: "ok",
        time: 0.001,
      });
    }

    // Qdrant's scroll: the points in id order (integers, then UUIDs), from `offset` (inclusive),
    // with the payload keys asked for, and the id of the point after the page.
    const scrollMatch = /^\/qdrant\/collections\/([^/]+)\/points\/scroll$/.exec(path);
    if (method === "POST" && scrollMatch) {
      const s = scenario.qdrant ?? {};
      if (await failure(req, res, s, signal, qdrantError)) return;
      const name = decodeURIComponent(scrollMatch[1] ?? "");
      if (s.collection !== undefined && s.collection !== name) {
        return sendJson(res, 404, { status: { error: `Not found: Collection \`${name}\` doesn't exist!` }, time: 0 });
      }
      const body = asObject(parseBody(raw));
      const inOrder = [...(s.points ?? DEFAULT_POINTS)].sort(comparePointIds);
      const limit = typeof body.limit === "number" && body.limit >= 0 ? Math.floor(body.limit) : 10;
      const start =
        body.offset === undefined
          ? 0
          : inOrder.findIndex((point) => comparePointIds(point, { id: body.offset as number | string }) >= 0);
      const page = start < 0 ? [] : inOrder.slice(start, start + limit);
      const next = start < 0 ? undefined : inOrder[start + limit];
      const keys = Array.isArray(body.with_payload) ? (body.with_payload as string[]) : null;
      return sendJson(res, 200, {
        result: {
          points: page.map((point) => ({
            id: point.id,
            payload:
              body.with_payload === false
                ? null
                : keys === null
                  ? point.payload
                  : Object.fromEntries(Object.entries(point.payload).filter(([key]) => keys.includes(key))),
            vector: body.with_vector === true ? [...DEFAULT_VECTOR] : null,
          })),
          next_page_offset: next === undefined ? null : next.id,
        },
        status: "ok",
        time: 0.001,
      });
    }

    if (isQdrant) return sendJson(res, 404, { status: { error: `Not found: ${method} ${path}` }, time: 0 });
    return sendJson(res, 404, openAiError(`Unknown route ${method} ${path}`));
  }

  /** Runs the failure part of a scenario; true when it has dealt with the request. */
  async function failure(
    req: IncomingMessage,
    res: ServerResponse,
    f: Failure,
    signal: AbortSignal,
    defaultError: (message: string) => unknown,
  ): Promise<boolean> {
    if (f.delayMs) await sleep(f.delayMs, signal);
    if (f.destroy) {
      req.socket.destroy();
      return true;
    }
    if (f.hang) {
      await hang(signal);
      return true;
    }
    if (f.status !== undefined || f.body !== undefined) {
      const status = f.status ?? 200;
      const body = f.body ?? JSON.stringify(defaultError(`fake failure (status ${status})`));
      const type = status < 300 || looksLikeJson(body) ? "application/json" : "text/plain; charset=utf-8";
      res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
      res.end(body);
      return true;
    }
    return false;
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      shutdown.abort();
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    });
    return closing;
  }

  return { url: `http://127.0.0.1:${port}`, close };
}

function bearer(req: IncomingMessage): string {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
  return match?.[1]?.trim() ?? "";
}

function apiKey(req: IncomingMessage): string {
  const value = req.headers["api-key"];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? "";
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

/** Parsed JSON, the raw string when it is not JSON, or null when there is no body. */
function parseBody(raw: string): unknown {
  if (raw === "") return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function looksLikeJson(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

function countTokens(input: unknown): number {
  const text = typeof input === "string" ? input : JSON.stringify(input ?? "");
  return Math.max(1, text.split(/\s+/).filter(Boolean).length);
}

/** "Fake answer." → ["Fake ", "answer."]: each word keeps the whitespace after it. */
function splitWords(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text]);
}

function openAiError(message: string): unknown {
  return { error: { message, type: "server_error", param: null, code: null } };
}

function qdrantError(message: string): unknown {
  return { status: { error: message }, time: 0 };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Aborted());
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Aborted());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waits until the client goes away or close() runs, then stops the handler. */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(new Aborted());
    signal.addEventListener("abort", () => reject(new Aborted()), { once: true });
  });
}
