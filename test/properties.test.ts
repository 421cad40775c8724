// Property-based tests (fast-check): whatever a client sends to any route the app serves, in its
// body, path, query or headers, the answer is what /openapi.json documents for it (status, content
// type, body, headers), never a 5xx; and any question the service accepts reads back byte for
// byte. Calls the Worker's fetch handler.
import fc from "fast-check";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createApp } from "../src/app";
import { toStorableText } from "../src/storable-text";
import { adminToken } from "./helpers/admin";
import { ask, call, callApp, chatRequest, history } from "./helpers/http";
import { documentChecker } from "./helpers/openapi";
import { newKey, ragEnv, setScenario } from "./helpers/upstream";

// Enough to find the odd input, few enough to keep the suite quick (each property gets 2 minutes:
// on a busy 2-core machine 150 turns and their reads take more than the default 20 s).
const numRuns = 150;

/**
 * Every route the app serves, from the app itself, with its path as the document names it
 * ("/api/sessions/{session_uuid}") and as a template for the fuzzer's segments.
 */
const routes = [
  ...new Map(
    createApp()
      .routes.filter((route) => route.method !== "ALL")
      .map((route) => [
        `${route.method} ${route.path}`,
        { method: route.method, path: route.path, documented: route.path.replace(/:(\w+)/g, "{$1}") },
      ]),
  ).values(),
];

let document: Record<string, any>;
let expectDocumented: ReturnType<typeof documentChecker>;

beforeAll(async () => {
  document = await (await call("/openapi.json")).json();
  expectDocumented = documentChecker(document);
});

/**
 * The answer is what the document says the operation answers: status, content type, body and
 * headers. A method the path lacks has no operation: its answer is a problem (405), or, for a
 * CORS preflight, 204; a HEAD's has no body.
 */
async function expectWellFormedAnswer(response: Response, method: string, documentedPath: string, request: string) {
  const text = await response.text();
  expect(response.status, `${request} → ${text}`).toBeLessThan(500);
  if (method === "HEAD") {
    expect(text, request).toBe("");
  } else if (document.paths[documentedPath]?.[method.toLowerCase()]) {
    expectDocumented(method, documentedPath, response, text);
  } else if (!(method === "OPTIONS" && response.status === 204)) {
    expect(response.headers.get("Content-Type"), request).toBe("application/problem+json");
    const problem = JSON.parse(text);
    expect(problem.status, request).toBe(response.status);
    expect(typeof problem.code, request).toBe("string");
  }
}

// Strings of every kind: full Unicode (astral, lone surrogates), control characters, JSON syntax.
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("", " ", "\u0000", "null", "{}", "[]", '{"question":', "%00", "../..", "\ud800", "🤖"),
);
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      question: fc.oneof(anyText, fc.jsonValue({ maxDepth: 1 })),
      session_uuid: fc.oneof(fc.uuid(), anyText, fc.constant(null)),
      client_message_id: fc.oneof(fc.uuid(), anyText, fc.constant(null)),
      stream: fc.oneof(fc.boolean(), anyText),
      rating: fc.oneof(fc.constantFrom("up", "down"), anyText, fc.jsonValue({ maxDepth: 1 })),
      comment: fc.oneof(anyText, fc.constant(null), fc.jsonValue({ maxDepth: 1 })),
    },
    { requiredKeys: [] },
  ),
);
// The bodies of the AI SDK's useChat (POST /api/ui/chat), with any values in their fields.
const anyUiMessage = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.record(
    {
      id: fc.oneof(anyText, fc.uuid(), fc.jsonValue({ maxDepth: 0 })),
      role: fc.oneof(fc.constantFrom("user", "assistant", "system"), anyText),
      parts: fc.oneof(
        fc.array(
          fc.record(
            {
              type: fc.oneof(fc.constantFrom("text", "file", "source-url"), anyText),
              text: fc.oneof(anyText, fc.jsonValue()),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
        fc.jsonValue({ maxDepth: 1 }),
      ),
    },
    { requiredKeys: [] },
  ),
);
const anyUiBody = fc.record(
  {
    id: fc.oneof(fc.uuid(), anyText, fc.constant(null)),
    message: anyUiMessage,
    messages: fc.oneof(fc.array(anyUiMessage, { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
    trigger: fc.oneof(fc.constantFrom("submit-message", "regenerate-message", "resume-stream"), anyText),
    messageId: fc.oneof(anyText, fc.constant(null)),
  },
  { requiredKeys: [] },
);
const anyBody = fc.oneof(
  anyJson.map((value) => JSON.stringify(value) ?? ""),
  anyUiBody.map((value) => JSON.stringify(value)),
  anyText,
  fc.uint8Array({ maxLength: 64 }).map((bytes) => bytes),
);
const anyPathSegment = fc.oneof(
  fc.uuid(),
  fc.uuid().map((uuid) => uuid.toUpperCase()),
  anyText.filter((text) => text.isWellFormed()).map((text) => encodeURIComponent(text)),
  fc.constantFrom("%2F", "%00", "..", "%", "%ZZ", "{6f1c1a52-7f5e-4a87-9d2e-3b8f0f3c9a10}"),
);
const anyQuery = fc.dictionary(
  fc.constantFrom(
    "limit",
    "order",
    "cursor",
    "format",
    "x",
    "q",
    "from",
    "to",
    "bucket",
    "min_messages",
    "has_failures",
    "has_negative_feedback",
  ),
  fc.oneof(
    anyText,
    fc.integer().map(String),
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
    // Times PostgreSQL cannot hold, and cursors that decode to them.
    fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((date) => date.toISOString()),
    fc.constantFrom("0000-01-01", "0001-01-01", "-000001-01-01T00:00:00Z", "+275760-09-13T00:00:00Z", "9999-12-31"),
    fc
      .constantFrom("v1:s:-999999999999999:1", "v1:s:999999999999999:1", "v1:asc:2147483648", "v1:m:9007199254740993")
      .map((cursor) => btoa(cursor).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")),
    // Numbers that are not plain decimal digits.
    fc.constantFrom("0x10", "1e3", "+5", " 5", "5 ", "05", "1.0", "Infinity", "NaN"),
    fc.constantFrom(
      "asc",
      "desc",
      "0",
      "1000",
      "1001",
      "-1",
      "day",
      "hour",
      "true",
      "false",
      "json",
      "markdown",
      "2026-11-25",
      '"a" -b or',
    ),
  ),
  { maxKeys: 4 },
);
const anyHeaders = fc.record(
  {
    "Content-Type": fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/problem+json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "",
    ),
    Accept: fc.constantFrom(
      "application/json",
      "text/event-stream",
      "*/*",
      "",
      "application/json, text/event-stream;q=0.1",
      "text/event-stream;q=0",
      "text/*;q=0.5, application/json;q=0.4",
    ),
    "Content-Encoding": fc.constantFrom("identity", "gzip", "zstd", "bogus", ""),
    "X-Session-Id": fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }).filter(isHeaderSafe)),
    "X-Request-Id": fc.string({ maxLength: 80 }).filter(isHeaderSafe),
    Authorization: fc.oneof(
      fc.constant(`Bearer ${adminToken}`),
      fc.string({ maxLength: 40 }).filter(isHeaderSafe),
      fc.constantFrom("Bearer", "Bearer x", `Basic ${adminToken}`),
    ),
  },
  { requiredKeys: [] },
);

function isHeaderSafe(value: string): boolean {
  return /^[\t\x20-\x7e]*$/.test(value) && value.trim() === value;
}

describe("any request to any route", () => {
  it("gets what the document says the route answers (status, type, body, headers), never a 5xx", async () => {
    const {
      session_uuid: existing,
      bot_message: { id: answerId },
    } = await ask("a session the fuzzer may find");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"),
        fc.boolean(),
        fc.oneof(anyPathSegment, fc.constant(existing)),
        fc.oneof(anyPathSegment, fc.constant(String(answerId)), fc.integer().map(String)),
        anyQuery,
        anyHeaders,
        anyBody,
        async (route, otherMethod, keepMethod, segment, idSegment, query, headers, body) => {
          const method = keepMethod ? route.method : otherMethod;
          const path = route.path.replace(/:(\w+)/g, (_, name) => (name === "message_id" ? idSegment : segment));
          const search = new URLSearchParams(query).toString();
          const url = `${path}${search ? `?${search}` : ""}`;
          const withBody = method !== "GET" && method !== "HEAD";
          // Not followed: "/" answers with its own redirect, which the document describes.
          const init = { method, headers, body: withBody ? body : undefined, redirect: "manual" as const };
          const response = await call(url, init);
          await expectWellFormedAnswer(response, method, route.documented, `${method} ${url}`);
        },
      ),
      { numRuns: 4 * numRuns },
    );
  }, 120_000);
});

describe("any question the service accepts", () => {
  it("reads back from the history byte for byte", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", minLength: 1, maxLength: 200 }), async (question) => {
        const response = await call("/api/chat", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ question }),
        });
        if (response.status !== 200) {
          // Refused only for what the contract refuses: blank, U+0000, lone surrogates.
          expect(response.status).toBe(400);
          expect(!/\S/u.test(question) || question.includes("\u0000") || !question.isWellFormed()).toBe(true);
          return;
        }
        const reply = await response.json<{ session_uuid: string; user_message: { message: string } }>();
        expect(reply.user_message.message).toBe(question);
        const [stored] = (await history(reply.session_uuid)).messages;
        expect(stored!.message).toBe(question);
      }),
      { numRuns },
    );
  }, 120_000);
});

describe("any text an upstream sends", () => {
  it("is answered and stored as the reader received it, U+0000 removed and lone surrogates as U+FFFD", async () => {
    const upstreamText = fc.oneof(
      fc.string({ unit: "binary", maxLength: 30 }),
      fc.constantFrom("\u0000", "\ud800", "\udfff", "\ud83e", "\udd16", "🤖", "javascript:alert(1)"),
    );
    const app = createApp();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ title: upstreamText, url: upstreamText, text: upstreamText }), { maxLength: 3 }),
        fc.array(upstreamText, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (passages, chunks, streamed) => {
          const key = newKey();
          await setScenario(inject("fakeUpstreamUrl"), key, {
            qdrant: { points: passages.map((payload, id) => ({ id, score: 1 - id / 10, payload })) },
            chat: { chunks },
          });
          const headers: Record<string, string> = streamed ? { Accept: "text/event-stream" } : {};
          const { response, finished } = await callApp(
            app,
            "/api/chat",
            chatRequest({ question: "Any text?" }, headers),
            ragEnv(key),
          );
          const body = await response.text();
          await finished();
          expect(response.status, body).toBe(200);
          const expected = toStorableText(chunks.join(""));
          let received: string;
          if (streamed) {
            expect(body).not.toContain("event: error");
            received = [...body.matchAll(/^event: delta\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!).text).join("");
          } else {
            received = JSON.parse(body).answer;
          }
          expect(received).toBe(expected);
          const stored = (await history(response.headers.get("X-Session-Id")!)).messages.at(-1)!;
          expect(stored.message).toBe(expected);
          expect(stored.sources).toHaveLength(passages.length);
          for (const source of stored.sources) {
            for (const text of [source.title, source.snippet]) expect(toStorableText(text)).toBe(text);
            if (source.url !== null) expect(source.url).toMatch(/^https?:\/\//);
          }
        },
      ),
      { numRuns: numRuns / 3 },
    );
  }, 120_000);
});

/** A message as a browser would have kept it. */
const plausibleMessage = fc.oneof(
  fc.record(
    {
      sender: fc.constant("user"),
      message: fc.string({ unit: "binary", minLength: 1, maxLength: 60 }),
      timestamp: fc.date({ min: new Date(Date.UTC(2000, 0, 1)), max: new Date(), noInvalidDate: true }),
    },
    { requiredKeys: ["sender", "message"] },
  ),
  fc.record(
    {
      sender: fc.constant("bot"),
      message: fc.string({ unit: "binary", minLength: 1, maxLength: 60 }),
      timestamp: fc.date({ min: new Date(Date.UTC(2000, 0, 1)), max: new Date(), noInvalidDate: true }),
      sources: fc.array(
        fc.record(
          {
            // Any text, U+0000 and lone surrogates included: a 400 naming the field, never a 5xx.
            title: fc.oneof(
              fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
              fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
            ),
            url: fc.oneof(
              fc.webUrl(),
              fc.constant(null),
              fc.webUrl().map((url) => `${url}\u0000`),
              anyText,
            ),
            snippet: fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "binary", maxLength: 20 })),
            score: fc.double({ noNaN: true, noDefaultInfinity: true }),
          },
          { requiredKeys: ["title"] },
        ),
        { maxLength: 2 },
      ),
      status: fc.constantFrom("complete", "incomplete"),
    },
    { requiredKeys: ["sender", "message"] },
  ),
);

/** A plausible transcript: a question first, timestamps in order, written with an offset. */
const plausibleTranscript = fc
  .tuple(plausibleMessage, fc.array(plausibleMessage, { maxLength: 5 }))
  .map(([first, rest]) => {
    const question = { sender: "user", message: first.message, timestamp: first.timestamp };
    const messages = [question, ...rest].map((m) => ({ ...m })) as Record<string, any>[];
    const dates = messages.flatMap((m) => (m.timestamp ? [m.timestamp as Date] : [])).sort((a, b) => +a - +b);
    for (const m of messages) if (m.timestamp) m.timestamp = dates.shift()!.toISOString().replace(/Z$/, "+00:00");
    return messages;
  });

/** Anything at all in the places of a transcript's fields. */
const wildTranscript = fc.array(
  fc.record(
    {
      sender: fc.oneof(fc.constantFrom("user", "bot"), anyText),
      message: anyText,
      timestamp: fc.oneof(anyText, fc.constant(null), fc.integer()),
      sources: fc.jsonValue({ maxDepth: 2 }),
      status: fc.oneof(fc.constantFrom("complete", "incomplete"), anyText),
    },
    { requiredKeys: [] },
  ),
  { minLength: 0, maxLength: 4 },
);

describe("any transcript", () => {
  it("is imported and reads back as sent, or refused with a 400 naming the message; never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(plausibleTranscript, wildTranscript), async (messages) => {
        const response = await call("/api/sessions/import", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ import_id: crypto.randomUUID(), messages }),
        });
        const text = await response.text();
        if (response.status !== 201) {
          expect(response.status, text).toBe(400);
          const problem = JSON.parse(text);
          expect(problem.code, text).toBe("validation_error");
          for (const error of problem.errors) expect(error.path, text).toMatch(/^messages(\.\d+(\.|$)|$)/);
          return;
        }
        const { session_uuid } = JSON.parse(text);
        const stored = (await history(session_uuid)).messages;
        expect(stored.map((m) => [m.seq, m.sender, m.message])).toEqual(
          messages.map((m, i) => [i + 1, m.sender, m.message]),
        );
        messages.forEach((m, i) => {
          if (typeof m.timestamp === "string") expect(stored[i]!.timestamp).toBe(new Date(m.timestamp).toISOString());
          if (m.sender === "bot")
            expect(stored[i]!.sources).toHaveLength((m.sources as unknown[] | undefined)?.length ?? 0);
        });
      }),
      { numRuns },
    );
  }, 120_000);
});
