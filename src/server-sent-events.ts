/**
 * Reading server-sent events (text/event-stream, as the WHATWG HTML standard defines it): the
 * model's streamed answer (answers/openai.ts), the chat stream in the typed client
 * (src/client.ts) and the tests all read them here. It imports nothing, so the client carries it
 * to a front end without any of the server, and any folder may use it (it is not in http/, which
 * imports answers/ to describe their errors in the log).
 */

/** One event: its type ("message" when the stream names none) and its `data:` lines joined. */
export type ServerSentEvent = { event: string; data: string };

export type ServerSentEventParser = {
  /** The events that this piece of the stream completes, in order; the rest is kept for the next. */
  push(piece: Uint8Array | string): ServerSentEvent[];
};

/**
 * A parser for one stream, fed piece by piece as the pieces arrive. A piece may end anywhere: in
 * an event, a line, a line break, or a UTF-8 character.
 */
export function serverSentEventParser(): ServerSentEventParser {
  const decoder = new TextDecoder();
  let buffer = "";
  // A CR that ends a piece ends a line, and may be the first half of a CRLF whose LF comes next.
  let afterReturn = false;
  return {
    push(piece) {
      let text = typeof piece === "string" ? piece : decoder.decode(piece, { stream: true });
      if (afterReturn && text !== "") {
        afterReturn = false;
        if (text.startsWith("\n")) text = text.slice(1);
      }
      if (text.endsWith("\r")) afterReturn = true;
      buffer += text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
      const events: ServerSentEvent[] = [];
      let start = 0;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n", start)) {
        const event = parseEvent(buffer.slice(start, end));
        if (event) events.push(event);
        start = end + 2;
      }
      buffer = buffer.slice(start);
      return events;
    },
  };
}

/** The events of a whole stream's text (a response body read at once). */
export function parseServerSentEvents(text: string): ServerSentEvent[] {
  return serverSentEventParser().push(`${text}\n\n`);
}

/**
 * The events of a body as they arrive. Leaving the loop early releases the body without
 * cancelling it: the caller decides whether the rest is still wanted.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const parser = serverSentEventParser();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield* parser.push(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * One event's lines: `field: value` (one space after the colon is not part of the value), a line
 * without a colon is a field with an empty value, a line that starts with a colon is a comment.
 * A block with no `data` line is no event. An `id` or `retry` field matters only to EventSource's
 * reconnection, which none of our readers does.
 */
function parseEvent(block: string): ServerSentEvent | null {
  // Nearly every event of a model's stream is a single data line.
  if (block.startsWith("data:") && !block.includes("\n")) {
    return { event: "message", data: block.slice(block.startsWith("data: ") ? 6 : 5) };
  }
  let event = "message";
  let data: string | null = null;
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    if (colon === 0) continue;
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(line[colon + 1] === " " ? colon + 2 : colon + 1);
    if (field === "data") data = data === null ? value : `${data}\n${value}`;
    else if (field === "event") event = value || "message";
  }
  return data === null ? null : { event, data };
}
