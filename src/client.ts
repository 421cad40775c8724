/**
 * A typed client for front ends: Hono's `hc` over this service's routes, and a reader for the
 * server-sent events of a streamed answer (EventSource cannot POST). Of the service it imports
 * types and one dependency-free module (server-sent-events.ts), so a front end's bundle gets
 * hono/client and these two files, nothing of the server.
 *
 *   const api = createChatClient("https://chat.example");
 *   const res = await api.api.chat.$post({ json: { question: "What is a ZMP?" } });
 *   if (res.status === 200) console.log((await res.json()).answer);
 *
 *   // A signed-in reader (docs/api.md §17): the book's sign-in token on every request.
 *   const mine = createChatClient("https://chat.example", { headers: { Authorization: `Bearer ${token}` } });
 *   const list = await mine.api.me.sessions.$get({ query: {} });
 *
 *   const streamed = await api.api.chat.$post({ json: { question: "And then?", stream: true } });
 *   for await (const event of readChatStream(streamed)) if (event.event === "delta") show(event.data.text);
 */
import { type ClientRequestOptions, hc } from "hono/client";
import type { AppType } from "./app";
import type { ChatStreamEvent } from "./schemas/responses";
import { readServerSentEvents } from "./server-sent-events";

export type { AppType } from "./app";
export type { Problem } from "./http/problem";
export type { ReaderSession } from "./schemas/readers";
export type {
  ChatResponse,
  ChatStreamEvent,
  HistoryPage,
  Message,
  SessionExport,
  SessionSummary,
  UiMessage,
  UiMessageMetadata,
  UiMessagePage,
} from "./schemas/responses";

export function createChatClient(baseUrl: string, options?: ClientRequestOptions) {
  return hc<AppType>(baseUrl, options);
}

/** The typed client, route by route: what a front end names where it keeps one. */
export type ChatClient = ReturnType<typeof createChatClient>;

/**
 * The events of a streamed answer (`stream: true`), typed, in order: `start`, `delta`…, then
 * `done` or `error`. Throws if the response is not an event stream (a problem before the stream
 * started comes as an ordinary JSON problem response: check `response.ok` first).
 */
export async function* readChatStream(
  response: Pick<Response, "status" | "headers" | "body">,
): AsyncGenerator<ChatStreamEvent> {
  const type = response.headers.get("Content-Type") ?? "";
  if (!response.body || !type.startsWith("text/event-stream")) {
    throw new Error(`expected an event stream, got ${response.status} ${type}`);
  }
  for await (const { event, data } of readServerSentEvents(response.body)) {
    yield { event, data: JSON.parse(data) } as ChatStreamEvent;
  }
}
