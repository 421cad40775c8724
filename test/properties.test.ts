// Property-based tests (fast-check): whatever a client sends to any route, in its body, path,
// query or headers, the answer is a documented success or a problem, never a 5xx; and any question
// the service accepts reads back byte for byte. Calls the Worker's fetch handler.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adminToken } from "./helpers/admin";
import { ask, call, history } from "./helpers/http";

// Enough to find the odd input, few enough to keep the suite quick (each property gets 2 minutes:
// on a busy 2-core machine 150 turns and their reads take more than the default 20 s).
const numRuns = 150;

const routes = [
  { method: "POST", path: "/api/chat" },
  { method: "POST", path: "/api/sessions" },
  { method: "GET", path: "/api/sessions/{uuid}" },
  { method: "DELETE", path: "/api/sessions/{uuid}" },
  { method: "GET", path: "/api/sessions/{uuid}/messages" },
  { method: "PUT", path: "/api/sessions/{uuid}/messages/{id}/feedback" },
  { method: "DELETE", path: "/api/sessions/{uuid}/messages/{id}/feedback" },
  { method: "GET", path: "/api/admin/sessions" },
  { method: "GET", path: "/api/admin/sessions/{uuid}" },
  { method: "GET", path: "/api/admin/search" },
  { method: "GET", path: "/api/admin/stats" },
  { method: "GET", path: "/admin" },
  { method: "POST", path: "/api/ui/chat" },
  { method: "GET", path: "/api/ui/chat/{uuid}/messages" },
  { method: "GET", path: "/health" },
  { method: "GET", path: "/openapi.json" },
] as const;

/** What a documented success looks like for each status the API gives. */
function isDocumentedSuccess(response: Response): boolean {
  const type = response.headers.get("Content-Type") ?? "";
  if (response.status === 204) return true;
  if (response.status === 200 || response.status === 201) {
    return type.startsWith("application/json") || type.startsWith("text/event-stream") || type.startsWith("text/html");
  }
  return false;
}

async function expectWellFormedAnswer(response: Response, method: string, request: string) {
  const text = await response.text();
  expect(response.status, `${request} → ${text}`).toBeLessThan(500);
  if (method === "HEAD") {
    expect(text, request).toBe("");
  } else if (response.status >= 400) {
    expect(response.headers.get("Content-Type"), request).toBe("application/problem+json");
    const problem = JSON.parse(text);
    expect(problem.status, request).toBe(response.status);
    expect(typeof problem.code, request).toBe("string");
  } else {
    expect(isDocumentedSuccess(response), `${request} → ${response.status}`).toBe(true);
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
    Accept: fc.constantFrom("application/json", "text/event-stream", "*/*", ""),
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
  it("gets a documented success or a problem+json, never a 5xx", async () => {
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
          const path = route.path.replace("{uuid}", segment).replace("{id}", idSegment);
          const search = new URLSearchParams(query).toString();
          const url = `${path}${search ? `?${search}` : ""}`;
          const withBody = method !== "GET" && method !== "HEAD";
          const response = await call(url, { method, headers, body: withBody ? body : undefined });
          await expectWellFormedAnswer(response, method, `${method} ${url}`);
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
