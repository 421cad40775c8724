import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport, type UIMessage } from "ai";
import { type FormEvent, type RefObject, useCallback, useEffect, useRef, useState } from "react";

/** What the service puts in a message's metadata (docs/api.md §12.4; src/client.ts has it all). */
type BookMessage = UIMessage<{ session_uuid: string; id?: number; seq?: number; status?: "complete" | "incomplete" }>;

/** One of a signed-in reader's conversations (docs/api.md §17.3). */
type ReaderSession = { session_uuid: string; title: string; message_count: number };

/** Gives the signed-in reader's token (a JWT of the site's sign-in), fresh. */
export type GetToken = () => Promise<string>;

/** The conversation on screen; `key` changes whenever another one is opened. */
type Opened = { key: number; sessionUuid?: string; messages: BookMessage[] };

/** Where the browser keeps its anonymous session, to restore it and to claim it at sign-in. */
const sessionKey = "book-chat-session";

/**
 * The book's chat. Anonymous, it keeps its session's UUID in localStorage and restores it. With a
 * reader signed in (`getToken`), that session becomes the reader's, and the reader's conversations
 * are listed, opened and continued on any device.
 */
export function BookChat({ api, getToken }: { api: string; getToken?: GetToken }) {
  const [opened, setOpened] = useState<Opened>();
  const [sessions, setSessions] = useState<ReaderSession[]>([]);
  const openings = useRef(0);
  const open = useCallback((conversation: Omit<Opened, "key">) => {
    openings.current += 1;
    setOpened({ key: openings.current, ...conversation });
  }, []);
  // The transport asks for the token at each request: useChat keeps its transport, and the token
  // changes (at sign-in, at sign-out, and when it expires).
  const token = useRef(getToken);
  useEffect(() => {
    token.current = getToken;
  }, [getToken]);

  const signedIn = getToken !== undefined;
  useEffect(() => {
    if (signedIn) return;
    const sessionUuid = localStorage.getItem(sessionKey) ?? undefined;
    if (!sessionUuid) return open({ messages: [] });
    loadConversation(api, sessionUuid)
      .then((messages) => {
        if (messages) return open({ sessionUuid, messages });
        // The session was deleted: start a new one.
        localStorage.removeItem(sessionKey);
        open({ messages: [] });
      })
      .catch(() => open({ sessionUuid, messages: [] }));
  }, [api, signedIn, open]);

  const refresh = useCallback(async () => {
    if (token.current) setSessions(await listSessions(api, token.current));
  }, [api]);
  useEffect(() => {
    if (!getToken) return setSessions([]);
    // At sign-in the conversation the browser held anonymously becomes the reader's; the one on
    // screen, if any, goes on.
    setOpened((current) => current ?? { key: 0, messages: [] });
    claimAnonymousSessions(api, getToken)
      .then(() => listSessions(api, getToken))
      .then(setSessions)
      .catch(() => setSessions([]));
  }, [api, getToken]);

  const openSession = (sessionUuid: string) => {
    loadConversation(api, sessionUuid, getToken)
      .then((messages) => (messages ? open({ sessionUuid, messages }) : refresh()))
      .catch(() => open({ sessionUuid, messages: [] }));
  };
  return (
    <div className="book-chat-page">
      {signedIn && (
        <nav className="conversations">
          <button type="button" className="new-conversation" onClick={() => open({ messages: [] })}>
            New conversation
          </button>
          <ul>
            {sessions.map((session) => (
              <li key={session.session_uuid}>
                <button type="button" className="conversation" onClick={() => openSession(session.session_uuid)}>
                  {session.title}
                </button>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {opened ? (
        <Conversation
          key={opened.key}
          api={api}
          token={token}
          onAnswer={refresh}
          sessionUuid={opened.sessionUuid}
          messages={opened.messages}
        />
      ) : (
        <p>Loading…</p>
      )}
    </div>
  );
}

function Conversation({
  api,
  token,
  onAnswer,
  sessionUuid,
  messages: restored,
}: {
  api: string;
  token: RefObject<GetToken | undefined>;
  onAnswer: () => void;
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
      headers: () => authorization(token.current),
      // Only the newest message travels: the server holds the history.
      prepareSendMessagesRequest: ({ messages, trigger, messageId }) => ({
        body: { id: session.current, message: messages.at(-1), trigger, messageId },
      }),
    }),
    // Every answer names its session, also one that failed or was stopped.
    onFinish: ({ message }) => {
      const uuid = message.metadata?.session_uuid;
      if (!uuid) return;
      session.current = uuid;
      // A reader's sessions are kept by the server; the browser keeps an anonymous one.
      if (token.current) onAnswer();
      else localStorage.setItem(sessionKey, uuid);
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

/** The reader's token as the service wants it, or nothing while the chat is anonymous. */
async function authorization(getToken?: GetToken): Promise<Record<string, string>> {
  return getToken ? { Authorization: `Bearer ${await getToken()}` } : {};
}

/**
 * The newest 100 messages of a session, oldest first (next_cursor would page further back);
 * undefined when the session is gone (deleted, expired, or another reader's).
 */
async function loadConversation(api: string, sessionUuid: string, getToken?: GetToken) {
  const response = await fetch(`${api}/api/ui/chat/${sessionUuid}/messages?order=desc&limit=100`, {
    headers: await authorization(getToken),
  });
  if (response.status === 404) return undefined;
  const page: { messages: BookMessage[] } = response.ok ? await response.json() : { messages: [] };
  return page.messages.reverse();
}

/** The reader's newest conversations, newest activity first (docs/api.md §17.3). */
async function listSessions(api: string, getToken: GetToken): Promise<ReaderSession[]> {
  const response = await fetch(`${api}/api/me/sessions?limit=20`, { headers: await authorization(getToken) });
  if (!response.ok) throw new Error(`the reader's conversations: ${response.status}`);
  const page: { sessions: ReaderSession[] } = await response.json();
  return page.sessions;
}

/**
 * Hands the browser's anonymous session to the reader (docs/api.md §17.4): from then on it needs
 * the reader's token, and it is listed on every device. Claimed or gone, the browser has no more
 * use for it; after a failure it stays, to be claimed at the next sign-in.
 */
async function claimAnonymousSessions(api: string, getToken: GetToken) {
  const sessionUuid = localStorage.getItem(sessionKey);
  if (!sessionUuid) return;
  const response = await fetch(`${api}/api/me/sessions/claim`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(await authorization(getToken)) },
    body: JSON.stringify({ session_uuids: [sessionUuid] }),
  });
  if (response.ok) localStorage.removeItem(sessionKey);
}
