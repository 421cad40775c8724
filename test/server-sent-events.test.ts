// The server-sent-event reader (src/server-sent-events.ts) that the model's stream, the typed
// client and the tests share: run directly inside workerd, fed the way a network delivers bytes.
import { describe, expect, it } from "vitest";
import { parseServerSentEvents, readServerSentEvents, serverSentEventParser } from "../src/server-sent-events";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("reading server-sent events", () => {
  it("reads named events, unnamed ones as message, and joins data lines", () => {
    expect(parseServerSentEvents('event: start\ndata: {"a":1}\n\ndata: one\ndata:two\n\n')).toEqual([
      { event: "start", data: '{"a":1}' },
      { event: "message", data: "one\ntwo" },
    ]);
  });

  it("skips comments and blocks without data, and keeps a value's spaces after the first", () => {
    expect(parseServerSentEvents(": keep-alive\n\nevent: ping\n\nretry: 10\ndata:  two spaces\n\n")).toEqual([
      { event: "message", data: " two spaces" },
    ]);
  });

  it("returns an event only once its blank line has arrived", () => {
    const parser = serverSentEventParser();
    expect(parser.push("data: hal")).toEqual([]);
    expect(parser.push("f\n")).toEqual([]);
    expect(parser.push("\ndata: next")).toEqual([{ event: "message", data: "half" }]);
  });

  it("reads CRLF and CR line breaks, also when a CRLF is split between two pieces", () => {
    const parser = serverSentEventParser();
    expect(parser.push("data: a\r")).toEqual([]);
    expect(parser.push("\n\r\ndata: b\r\r")).toEqual([
      { event: "message", data: "a" },
      { event: "message", data: "b" },
    ]);
  });

  it("decodes a UTF-8 character split between two reads", () => {
    const encoded = bytes("data: Zürich\n\n");
    const parser = serverSentEventParser();
    expect(parser.push(encoded.subarray(0, 8))).toEqual([]);
    expect(parser.push(encoded.subarray(8))).toEqual([{ event: "message", data: "Zürich" }]);
  });

  it("reads a body's events as they arrive", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of ["event: delta\nda", "ta: x\n\nevent: done\ndata: y\n\n"]) controller.enqueue(bytes(piece));
        controller.close();
      },
    });
    const events = [];
    for await (const event of readServerSentEvents(body)) events.push(event);
    expect(events).toEqual([
      { event: "delta", data: "x" },
      { event: "done", data: "y" },
    ]);
  });
});
