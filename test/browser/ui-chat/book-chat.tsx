import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport, type UIMessage } from "ai";
import { type FormEvent, useEffect, useRef, useState } from "react";

/** What the service puts in a message's metadata (docs/api.md §12.4; src/client.ts has it all). */
type BookMessage = UIMessage<{ session_uuid: string; id?: number; seq?: number; status?: "complete" | "incomplete" }>;

const sessionKey = "book-chat-session";

/** The book's chat: restores the stored conversation, if any, then chats with useChat. */
export function BookChat({ api }: { api: string }) {
  const [restored, setRestored] = useState<{ sessionUuid?: string; messages: BookMessage[] }>();
  useEffect(() => {
    const sessionUuid = localStorage.getItem(sessionKey) ?? undefined;
    if (!sessionUuid) return setRestored({ messages: [] });
    // The newest 100 messages, newest first (next_cursor would page further back).
    fetch(`${api}/api/ui/chat/${sessionUuid}/messages?order=desc&limit=100`)
      .then(async (response) => {
        if (response.status === 404) {
          // The session was deleted: start a new one.
          localStorage.removeItem(sessionKey);
          return setRestored({ messages: [] });
        }
        const page: { messages: BookMessage[] } = response.ok ? await response.json() : { messages: [] };
        setRestored({ sessionUuid, messages: page.messages.reverse() });
      })
      .catch(() => setRestored({ sessionUuid, messages: [] }));
  }, [api]);
  return restored ? <Conversation api={api} {...restored} /> : <p>Loading…</p>;
}

function Conversation({
  api,
  sessionUuid,
  messages: restored,
}: {
  api: string;
  sessionUuid?: string;
  messages: BookMessage[];
}) {
  // The session UUID travels as the chat's id. The server issues it with the first answer, and
  // useChat must not be made anew when it arrives, so it is kept here, not in useChat's `id`.
  const session = useRef(sessionUuid);
  const [input, setInput] = useState("");
  const { messages, sendMessage, regenerate, status, error } = useChat<BookMessage>({
    messages: restored,
    transport: new DefaultChatTransport({
      api: `${api}/api/ui/chat`,
      // Only the newest message travels: the server holds the history.
      prepareSendMessagesRequest: ({ messages, trigger, messageId }) => ({
        body: { id: session.current, message: messages.at(-1), trigger, messageId },
      }),
    }),
    // Every answer names its session, also one that failed or was stopped.
    onFinish: ({ message }) => {
      const uuid = message.metadata?.session_uuid;
      if (uuid) {
        session.current = uuid;
        localStorage.setItem(sessionKey, uuid);
      }
    },
  });
  const busy = status === "submitted" || status === "streaming";
  const ask = (event: FormEvent) => {
    event.preventDefault();
    if (busy || input.trim() === "") return;
    sendMessage({ text: input });
    setInput("");
  };
  return (
    <div className="book-chat" data-status={status}>
      <ol className="messages">
        {messages.map((message) => (
          <li key={message.id} className={`message ${message.role}`}>
            {message.parts.map((part) => {
              if (part.type === "text") return <p key="text">{part.text}</p>;
              if (part.type === "source-url") {
                return (
                  <a key={part.sourceId} className="source" href={part.url}>
                    [{part.sourceId}] {part.title}
                  </a>
                );
              }
              if (part.type === "source-document") {
                return (
                  <span key={part.sourceId} className="source">
                    [{part.sourceId}] {part.title}
                  </span>
                );
              }
              return null;
            })}
            {message.metadata?.status === "incomplete" && <em>(cut short)</em>}
          </li>
        ))}
      </ol>
      {error && (
        <p className="error">
          {problemOf(error).detail}{" "}
          <button type="button" onClick={() => regenerate()}>
            Retry
          </button>
        </p>
      )}
      <form onSubmit={ask}>
        <input value={input} onChange={(event) => setInput(event.target.value)} placeholder="Ask about the book" />
        <button type="submit" disabled={busy}>
          Ask
        </button>
      </form>
    </div>
  );
}

/**
 * useChat's `error.message` is the service's problem (docs/api.md §7) as JSON, whether it came
 * before the stream or in it; or the browser's own words when no answer came at all.
 */
function problemOf(error: Error): { code?: string; detail: string } {
  try {
    return JSON.parse(error.message);
  } catch {
    return { detail: error.message };
  }
}
