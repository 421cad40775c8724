/**
 * The AI SDK's own client code, pointed at an app instance in the test's isolate: the fetch that
 * DefaultChatTransport calls goes to the app (callApp) instead of the network, and TestChat is the
 * state machine that `useChat` wraps (AbstractChat), with a plain state instead of React's.
 */
import { AbstractChat, type ChatInit, type ChatState, type ChatStatus, DefaultChatTransport } from "ai";
import { expect } from "vitest";
import { createApp } from "../../src/app";
import type { UiMessage, UiMessagePage } from "../../src/client";
import { callApp } from "./http";

export type { UiMessage, UiMessagePage } from "../../src/client";

/**
 * An app reached through fetch, as a browser would reach it. A disconnect is passed on as a real
 * one is: the request's signal cancels the response body the Worker writes. `settled()` waits for
 * the work the requests left to ctx.waitUntil; `bodies` are the request bodies as sent.
 */
export function appFetch(bindings: Partial<Env> = {}, app = createApp()) {
  const finishers: (() => Promise<void>)[] = [];
  const bodies: any[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (typeof init.body === "string") bodies.push(JSON.parse(init.body));
    const { signal, ...rest } = init;
    const { response, finished } = await callApp(app, `${url.pathname}${url.search}`, rest, bindings);
    finishers.push(finished);
    if (!response.body || !signal) return response;
    const body = response.body.pipeThrough(new TransformStream(), { signal });
    return new Response(body, response);
  };
  return {
    fetch,
    bodies,
    settled: async () => {
      for (const finished of finishers.splice(0)) await finished();
    },
  };
}

export const uiChatApi = "http://chat.test/api/ui/chat";

/**
 * A chat set up as the README's "Use it from React" sets up useChat: only the newest message and
 * the session travel (prepareSendMessagesRequest), and the session is taken from each answer's
 * metadata when it ends (onFinish), whether it ended well or not.
 */
export function bookChat(
  fetch: typeof globalThis.fetch,
  { sessionUuid, messages = [] }: { sessionUuid?: string; messages?: UiMessage[] } = {},
) {
  let session = sessionUuid;
  const chat = new TestChat({
    messages,
    transport: new DefaultChatTransport<UiMessage>({
      api: uiChatApi,
      fetch,
      prepareSendMessagesRequest: ({ messages, trigger, messageId }) => ({
        body: { id: session, message: messages.at(-1), trigger, messageId },
      }),
    }),
    onFinish: ({ message }) => {
      session = message.metadata?.session_uuid ?? session;
    },
  });
  return { chat, session: () => session };
}

class PlainChatState implements ChatState<UiMessage> {
  status: ChatStatus = "ready";
  error: Error | undefined = undefined;
  constructor(public messages: UiMessage[]) {}
  pushMessage = (message: UiMessage) => {
    this.messages = [...this.messages, message];
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index: number, message: UiMessage) => {
    this.messages = this.messages.with(index, message);
  };
  snapshot = <T>(thing: T): T => structuredClone(thing);
}

/** useChat without React: the same Chat class, the same requests, the same message handling. */
export class TestChat extends AbstractChat<UiMessage> {
  constructor({ messages = [], ...init }: ChatInit<UiMessage>) {
    super({ ...init, state: new PlainChatState(messages) });
  }
}

/** The text of a message's text parts. */
export function textOf(message: UiMessage | undefined): string {
  return (message?.parts ?? []).map((part) => (part.type === "text" ? part.text : "")).join("");
}

/** Reads a session's history as UI messages through the app (200 expected). */
export async function uiHistory(
  fetch: typeof globalThis.fetch,
  sessionUuid: string,
  query = "",
): Promise<UiMessagePage> {
  const response = await fetch(`${uiChatApi}/${sessionUuid}/messages${query}`);
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json();
}

/** Polls until `condition` holds (a streaming chat's state changes between awaits). */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
