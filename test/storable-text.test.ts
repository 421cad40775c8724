// Text PostgreSQL cannot store (U+0000, lone surrogates): refused with 400 where a client sends it,
// made storable where Qdrant or the model sends it (issue 17). Unit tests of src/storable-text.ts,
// then the Worker's routes against the fake upstream of test/fakes, read back from PostgreSQL.
import fc from "fast-check";
import { describe, expect, inject, it } from "vitest";
import { createApp } from "../src/app";
import { parseServerSentEvents } from "../src/server-sent-events";
import { StorableTextStream, toStorableJson, toStorableText } from "../src/storable-text";
import { openSql } from "./helpers/database";
import { call, callApp, chatRequest, expectProblem, history, type Message } from "./helpers/http";
import { appFetch, bookChat, textOf } from "./helpers/ui-chat";
import { newKey, ragEnv, recordedRequests, type Scenario, setScenario } from "./helpers/upstream";

const upstream = inject("fakeUpstreamUrl");

function streamed(pieces: string[]): string[] {
  const stream = new StorableTextStream();
  return [...pieces.map((piece) => stream.push(piece)), stream.end()];
}

function isStorable(text: string): boolean {
  return text.isWellFormed() && !text.includes("\u0000");
}

describe("making upstream text storable", () => {
  it("removes U+0000 and replaces each lone surrogate by U+FFFD, keeping surrogate pairs", () => {
    expect(toStorableText("PDF\u0000 text")).toBe("PDF text");
    expect(toStorableText("a\ud800b\udfffc")).toBe("a\ufffdb\ufffdc");
    expect(toStorableText("end \ud83d")).toBe("end \ufffd");
    expect(toStorableText("🤖 \ud83d\u0000\ude00")).toBe("🤖 \ufffd\ufffd");
    const plain = "Balance comes from the ZMP. 🤖";
    expect(toStorableText(plain)).toBe(plain);
  });

  it("makes every string of a JSON value storable, keys included, and leaves the rest alone", () => {
    expect(toStorableJson({ "n\u0000": ["x\ud800", 1, null, true], total: 3 })).toEqual({
      n: ["x\ufffd", 1, null, true],
      total: 3,
    });
  });

  it("joins a surrogate pair split between two pieces, and ends a held high surrogate as U+FFFD", () => {
    expect(streamed(["a\ud83d", "\ude00b"])).toEqual(["a", "😀b", ""]);
    expect(streamed(["a\ud83d", "b"])).toEqual(["a", "\ufffdb", ""]);
    expect(streamed(["tail \ud83d"])).toEqual(["tail ", "\ufffd"]);
    expect(streamed(["\ud83d", "", "\ude00"])).toEqual(["", "", "😀", ""]);
    expect(streamed(["x\u0000", "\u0000y"])).toEqual(["x", "y", ""]);
  });

  it("streams pieces that add up to what the whole text becomes, however the text is cut", () => {
    const unit = fc.constantFrom("\ud83d", "\ude00", "\udbff", "\u0000", "😀", "\ufffd", "a", " ");
    fc.assert(
      fc.property(fc.array(fc.string({ unit, maxLength: 8 }), { maxLength: 8 }), (pieces) => {
        const out = streamed(pieces);
        expect(out.join("")).toBe(toStorableText(pieces.join("")));
        for (const piece of out) expect(isStorable(piece)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

/** A transcript whose answer has one source, with `change` applied to that source. */
function transcriptWithSource(change: Record<string, unknown>) {
  return [
    { sender: "user", message: "What is a ZMP?" },
    {
      sender: "bot",
      message: "The zero moment point.",
      sources: [{ title: "Chapter 4", url: "https://book.example/ch4", snippet: "The ZMP is…", score: 0.8, ...change }],
    },
  ];
}

function importBody(body: unknown): Promise<Response> {
  return call("/api/sessions/import", chatRequest(body));
}

describe("client text that PostgreSQL cannot store is refused with 400 naming the field", () => {
  const cases: [string, string, string, RegExp][] = [
    ["U+0000", "title", "Chapter\u0000 4", /U\+0000/],
    ["a lone surrogate", "title", "Chapter \ud800", /lone surrogates/],
    ["U+0000", "snippet", "The ZMP\u0000", /U\+0000/],
    ["a lone surrogate", "snippet", "The \udfff ZMP", /lone surrogates/],
    ["U+0000", "url", "https://book.example/ch4\u0000", /U\+0000/],
    ["a lone surrogate", "url", "https://book.example/\ud800", /lone surrogates/],
  ];
  for (const [what, field, value, message] of cases) {
    it(`import: ${what} in a source's ${field}, and the same import_id then succeeds once fixed`, async () => {
      const import_id = crypto.randomUUID();
      const problem = await expectProblem(
        await importBody({ import_id, messages: transcriptWithSource({ [field]: value }) }),
        400,
        "validation_error",
      );
      expect(problem.errors).toEqual([
        { path: `messages.1.sources.0.${field}`, message: expect.stringMatching(message) },
      ]);
      const [row] = await openSql()<{ sessions: number }[]>`
        select count(*)::int as sessions from chat_sessions where import_id = ${import_id}`;
      expect(row!.sessions).toBe(0);

      const fixed = await importBody({ import_id, messages: transcriptWithSource({}) });
      expect(fixed.status, await fixed.clone().text()).toBe(201);
      const { session_uuid } = await fixed.json<{ session_uuid: string }>();
      const [, answer] = (await history(session_uuid)).messages;
      expect(answer!.sources).toEqual([
        { title: "Chapter 4", url: "https://book.example/ch4", snippet: "The ZMP is…", score: 0.8 },
      ]);
    });
  }

  it("import: a source url that has the form of a link but does not parse", async () => {
    const problem = await expectProblem(
      await importBody({ import_id: crypto.randomUUID(), messages: transcriptWithSource({ url: "http://[" }) }),
      400,
      "validation_error",
    );
    expect(problem.errors).toEqual([{ path: "messages.1.sources.0.url", message: "must be an http(s) URL" }]);
  });

  const uiPost = (body: unknown) => call("/api/ui/chat", chatRequest(body));
  const ask = (text: string, id: string) => ({ role: "user", id, parts: [{ type: "text", text }] });

  it.each([
    ["msg-\ud800-x", "message", (id: string) => ({ message: ask("Which key?", id) })],
    ["msg-\udfff-x", "message", (id: string) => ({ message: ask("Which key?", id) })],
    ["msg-\ud800-x", "messages.0", (id: string) => ({ messages: [ask("Which key?", id)] })],
    ["msg-\u0000-x", "message", (id: string) => ({ message: ask("Which key?", id) })],
  ])("useChat: a message id %j (in %s), which would be hashed altered", async (id, at, body) => {
    const problem = await expectProblem(await uiPost(body(id)), 400, "validation_error");
    expect(problem.errors).toEqual([{ path: `${at}.id`, message: expect.stringMatching(/U\+0000|lone surrogates/) }]);
  });

  it("useChat: different well-formed ids are different turns, where TextEncoder used to make lone surrogates one", async () => {
    const app = appFetch();
    const { chat, session } = bookChat(app.fetch);
    const asked = [
      ["First question", "msg-\ufffd-x"],
      ["Second question", "msg-\u00e9-x"],
      ["Third question", "msg-e\u0301-x"],
    ];
    for (const [text, id] of asked) {
      await chat.sendMessage({ id: id!, role: "user", parts: [{ type: "text", text: text! }] });
      await app.settled();
      expect(chat.error).toBeUndefined();
    }
    const questions = (await history(session()!)).messages.filter((m) => m.sender === "user");
    expect(questions.map((m) => m.message)).toEqual(asked.map(([text]) => text));
    expect(new Set(questions.map((m) => m.client_message_id)).size).toBe(3);
  });
});

async function given(scenario: Scenario): Promise<string> {
  const key = newKey();
  await setScenario(upstream, key, scenario);
  return key;
}

/** The events of a whole text/event-stream body: `event:` (POST /api/chat) or bare `data:` (useChat). */
async function eventsOf(response: Response): Promise<{ event: string; data: any }[]> {
  return parseServerSentEvents(await response.text())
    .filter(({ data }) => data !== "[DONE]")
    .map(({ event, data }) => ({ event, data: JSON.parse(data) }));
}

async function storedMetadata(messageId: number): Promise<Record<string, any>> {
  const [row] = await openSql()`select metadata from chat_messages where id = ${messageId}`;
  return row!.metadata;
}

// Text extracted from PDFs holds NULs; a provider may send a lone surrogate, or split a pair.
const pdfPassage = {
  id: 1,
  score: 0.9,
  payload: {
    title: "Chapter\u0000 4 \ud800",
    url: "https://book.example/ch4",
    text: "The ZMP\u0000 is where \udfff the moment vanishes.",
  },
};
const storedPdfSource = {
  title: "Chapter 4 \ufffd",
  url: "https://book.example/ch4",
  snippet: "The ZMP is where \ufffd the moment vanishes.",
  score: 0.9,
};
const modelChunks = ["Balance\u0000 ", "is \ud800 kept; ", "a robot \ud83e", "\udd16 stands", " at the end \ud83d"];
const storedAnswer = "Balance is \ufffd kept; a robot 🤖 stands at the end \ufffd";
const scenario: Scenario = {
  qdrant: { points: [pdfPassage] },
  chat: { chunks: modelChunks, model: "fake\u0000-chat-model \udc00" },
};

describe("upstream text PostgreSQL cannot store is made storable, and the question is answered", () => {
  it("answers as JSON: U+0000 removed, lone surrogates as U+FFFD, in the answer, its sources and its metadata", async () => {
    const key = await given(scenario);
    const { response, finished } = await callApp(
      createApp(),
      "/api/chat",
      chatRequest({ question: "What is the ZMP?" }),
      ragEnv(key),
    );
    expect(response.status, await response.clone().text()).toBe(200);
    await finished();
    const reply = await response.json<{
      session_uuid: string;
      answer: string;
      sources: unknown[];
      bot_message: Message;
    }>();
    expect(reply.answer).toBe(storedAnswer);
    expect(reply.sources).toEqual([storedPdfSource]);
    const [, answer] = (await history(reply.session_uuid)).messages;
    expect(answer).toMatchObject({ status: "complete", message: reply.answer, sources: [storedPdfSource] });
    expect((await storedMetadata(answer!.id)).model).toBe("fake-chat-model \ufffd");
    const completion = (await recordedRequests(upstream, key)).find((r) => r.path === "/v1/chat/completions")!;
    expect(completion.body.messages[1].content).toContain(
      "[1] Chapter 4 \ufffd (https://book.example/ch4)\nThe ZMP is where \ufffd the moment vanishes.",
    );
  });

  it("streams server-sent events whose deltas add up to the stored answer, a split surrogate pair joined", async () => {
    const key = await given(scenario);
    const { response, finished } = await callApp(
      createApp(),
      "/api/chat",
      chatRequest({ question: "What is the ZMP?", stream: true }),
      ragEnv(key),
    );
    expect(response.status).toBe(200);
    const events = await eventsOf(response);
    await finished();
    expect(events.map((e) => e.event)).not.toContain("error");
    const streamedText = events
      .filter((e) => e.event === "delta")
      .map((e) => e.data.text)
      .join("");
    const done = events.at(-1)!;
    expect(done.event).toBe("done");
    expect(streamedText).toBe(storedAnswer);
    expect(done.data.bot_message.message).toBe(storedAnswer);
    const [, answer] = (await history(response.headers.get("X-Session-Id")!)).messages;
    expect(answer).toMatchObject({ status: "complete", message: storedAnswer, sources: [storedPdfSource] });
    expect((await storedMetadata(answer!.id)).model).toBe("fake-chat-model \ufffd");
  });

  it("streams useChat text-deltas that add up to the stored answer, with the passage's storable title", async () => {
    const key = await given(scenario);
    const app = appFetch(ragEnv(key));
    const { chat, session } = bookChat(app.fetch);
    await chat.sendMessage({ text: "What is the ZMP?" });
    await app.settled();
    expect(chat.error).toBeUndefined();
    const shown = chat.messages.at(-1)!;
    expect(textOf(shown)).toBe(storedAnswer);
    expect(shown.parts.filter((part) => part.type === "source-url")).toEqual([
      {
        type: "source-url",
        sourceId: "1",
        url: "https://book.example/ch4",
        title: "Chapter 4 \ufffd",
        providerMetadata: { book: { snippet: storedPdfSource.snippet, score: 0.9 } },
      },
    ]);
    const [, answer] = (await history(session()!)).messages;
    expect(answer).toMatchObject({ status: "complete", message: storedAnswer });
  });

  it("stores what was sent of a stalled answer, without the high surrogate it was holding back", async () => {
    const key = await given({ chat: { chunks: ["Half \ud83d", "\ude00 more"], stallAfterChunks: 1 } });
    const { response, finished } = await callApp(
      createApp(),
      "/api/chat",
      chatRequest({ question: "A stalled answer", stream: true }),
      ragEnv(key, { LLM_TIMEOUT_MS: "300" }),
    );
    const events = await eventsOf(response);
    await finished();
    const sent = events
      .filter((e) => e.event === "delta")
      .map((e) => e.data.text)
      .join("");
    expect(sent).toBe("Half ");
    expect(events.at(-1)!.event).toBe("error");
    const [, answer] = (await history(response.headers.get("X-Session-Id")!)).messages;
    expect(answer).toMatchObject({ status: "incomplete", message: sent });
  });
});

describe("source URLs from Qdrant", () => {
  it("keeps http(s) links and serves and stores every other url as null", async () => {
    const urls = [
      "https://book.example/ch1",
      "javascript:alert(document.cookie)",
      "data:text/html,<script>alert(1)</script>",
      "/book/ch3",
      "http://[",
      "http://book.example/ch5",
    ];
    const key = await given({
      qdrant: {
        points: urls.map((url, i) => ({
          id: i,
          score: 1 - i / 10,
          payload: { title: `Passage ${i}`, url, text: "…" },
        })),
      },
    });
    const { response, finished } = await callApp(
      createApp(),
      "/api/chat",
      chatRequest({ question: "Where do I read on?" }),
      ragEnv(key, { RAG_TOP_K: String(urls.length) }),
    );
    expect(response.status, await response.clone().text()).toBe(200);
    await finished();
    const reply = await response.json<{ session_uuid: string; sources: { url: string | null }[] }>();
    const expected = ["https://book.example/ch1", null, null, null, null, "http://book.example/ch5"];
    expect(reply.sources.map((source) => source.url)).toEqual(expected);
    const [, answer] = (await history(reply.session_uuid)).messages;
    expect(answer!.sources.map((source) => source.url)).toEqual(expected);
  });
});
