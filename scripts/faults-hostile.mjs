// The last step of `npm run test:faults`: input nobody should send, from every side (issue 17).
// An upstream that sends text PostgreSQL cannot store (U+0000, lone surrogates, a surrogate pair
// split across two stream chunks, script URLs), clients asking for times PostgreSQL cannot hold,
// an import holding U+0000, and a session of 1,000 long messages read page by page. Runs against
// a `wrangler dev` of its own, answering from the fake model and Qdrant (scripts/fake-upstream.mjs),
// on the stack the fault phases used. Every answer must be a documented success or a 4xx, every
// turn's answer stored exactly as it was streamed, and every page bounded in bytes.
import { SERVICE_CONFIG } from "./bench-stack.mjs";
import { FAKE_KEY, ragVars } from "./bench-workload.mjs";

const ADMIN_TOKEN = "faults-hostile-admin-token-7c41d9e2b6a8";
/** docs/api.md: a page of messages stops once its body would pass 1 MiB, but holds one message at least. */
const PAGE_BUDGET_BYTES = 1024 * 1024;
/** The longest a question may be, in characters (src/schemas/chat.ts). */
const LONG_MESSAGE_CHARS = 8_000;
const LONG_SESSION_MESSAGES = 1_000;

/** What the fake Qdrant and model send: text that PostgreSQL refuses or would alter. */
const PASSAGES = [
  {
    id: 1,
    score: 0.91,
    payload: {
      title: "Zero\u0000 moment point",
      url: "javascript:alert(document.cookie)",
      text: "The ZMP\u0000 is where the ground reaction force acts; \ud800 a lone surrogate.",
    },
  },
  {
    id: 2,
    score: 0.74,
    payload: { title: "Lone \udfff surrogate", url: "https://book.example/zmp", text: "Balance \udc00 control." },
  },
  { id: 3, score: 0.52, payload: { title: "Data", url: "data:text/html,<script>alert(1)</script>", text: "x" } },
];
// The robot face is one astral character, sent as its two UTF-16 halves in two chunks.
const CHUNKS = ["Balance\u0000 ", "\ud83e", "\udd16 rests on ", "the ZMP \ud800."];
/** The answer as it must be stored and streamed: U+0000 removed, a lone surrogate as U+FFFD. */
const EXPECTED_ANSWER = "Balance 🤖 rests on the ZMP \ufffd.";

/**
 * @typedef {{ requests: number, statuses: Record<string, number>, violations: string[], seconds: number }} HostileResult
 */

/**
 * @param {{ stack: import("./bench-stack.mjs").BenchStack, databaseUrl: string, turns: number, progress: (line: string) => void }} options
 * @returns {Promise<HostileResult>}
 */
export async function runHostileInputs({ stack, databaseUrl, turns, progress }) {
  const started = performance.now();
  progress("hostile inputs: starting the fake model and Qdrant, and a wrangler dev answering from them...");
  const fakeUrl = await stack.startFakeUpstream();
  const service = await stack.startWrangler({
    name: "service (hostile upstream)",
    config: SERVICE_CONFIG,
    vars: { ...ragVars(fakeUrl), ADMIN_TOKEN },
    databaseUrl,
    readyPath: "/health",
  });
  const scenario = await fetch(`${fakeUrl}/__fake/scenarios/${FAKE_KEY}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ qdrant: { points: PASSAGES }, chat: { chunks: CHUNKS } }),
  });
  if (scenario.status !== 204) throw new Error(`the fake upstream refused the scenario: ${scenario.status}`);

  /** @type {HostileResult} */
  const result = { requests: 0, statuses: {}, violations: [], seconds: 0 };
  const base = service.base;
  /** Sends one request and counts its status; a 5xx is a violation whatever the step expected. */
  const send = async (/** @type {string} */ what, /** @type {string} */ path, /** @type {RequestInit} */ init = {}) => {
    const response = await fetch(`${base}${path}`, init);
    const body = await response.text();
    result.requests++;
    result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
    if (response.status >= 500) result.violations.push(`${what}: ${response.status} ${body.slice(0, 200)}`);
    return { status: response.status, headers: response.headers, body };
  };
  const expect = (/** @type {boolean} */ good, /** @type {string} */ violation) => {
    if (!good) result.violations.push(violation);
  };
  const json = { "Content-Type": "application/json" };
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  progress(`hostile inputs: ${turns} turns whose passages and answer hold U+0000 and lone surrogates...`);
  for (let i = 0; i < turns; i++) {
    const form = ["json", "events", "ui"][i % 3];
    const question = `Hostile upstream ${i}: how does a humanoid balance?`;
    let streamed = "";
    let sessionUuid = "";
    if (form === "ui") {
      const id = crypto.randomUUID();
      const message = { id: crypto.randomUUID(), role: "user", parts: [{ type: "text", text: question }] };
      const reply = await send(`useChat turn ${i}`, "/api/ui/chat", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ id, messages: [message], trigger: "submit-message" }),
      });
      if (reply.status !== 200) {
        result.violations.push(`useChat turn ${i}: ${reply.status}`);
        continue;
      }
      sessionUuid = reply.headers.get("X-Session-Id") ?? "";
      for (const line of reply.body.split("\n")) {
        if (!line.startsWith("data: {")) continue;
        const chunk = JSON.parse(line.slice(6));
        if (chunk.type === "text-delta") streamed += chunk.delta;
        if (chunk.type === "error") result.violations.push(`useChat turn ${i}: an error chunk`);
      }
    } else {
      const reply = await send(`${form} turn ${i}`, "/api/chat", {
        method: "POST",
        headers: { ...json, Accept: form === "events" ? "text/event-stream" : "application/json" },
        body: JSON.stringify({ question, client_message_id: crypto.randomUUID() }),
      });
      if (reply.status !== 200) {
        result.violations.push(`${form} turn ${i}: ${reply.status}`);
        continue;
      }
      sessionUuid = reply.headers.get("X-Session-Id") ?? "";
      if (form === "json") {
        streamed = JSON.parse(reply.body).answer;
      } else {
        for (const block of reply.body.split("\n\n")) {
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === "delta" && data) streamed += JSON.parse(data).text;
          if (event === "error") result.violations.push(`events turn ${i}: an error event`);
        }
      }
    }
    expect(streamed === EXPECTED_ANSWER, `${form} turn ${i}: answered ${JSON.stringify(streamed)}`);
    const history = await send(`history after turn ${i}`, `/api/sessions/${sessionUuid}/messages`);
    if (history.status !== 200) {
      result.violations.push(`history after ${form} turn ${i}: ${history.status}`);
      continue;
    }
    const answer = JSON.parse(history.body).messages.at(-1);
    expect(
      answer?.sender === "bot" && answer.message === streamed,
      `${form} turn ${i}: stored otherwise than streamed`,
    );
    for (const source of answer?.sources ?? []) {
      const storable = (/** @type {string} */ text) => !text.includes("\u0000") && text.isWellFormed();
      expect(
        storable(source.title) && storable(source.snippet),
        `${form} turn ${i}: a source kept U+0000 or a surrogate`,
      );
      expect(source.url === null || /^https?:\/\//.test(source.url), `${form} turn ${i}: a source URL ${source.url}`);
    }
  }

  progress("hostile inputs: times PostgreSQL cannot hold, loose numbers, an import holding U+0000...");
  const cursor = (/** @type {string} */ text) => btoa(text).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  const refused = [
    ["/api/admin/sessions?from=0000-01-01", admin],
    ["/api/admin/sessions?to=-000001-01-01T00:00:00Z", admin],
    ["/api/admin/stats?to=0001-01-01", admin],
    ["/api/admin/stats?from=9999-12-31&to=+275760-09-13T00:00:00Z", admin],
    [`/api/admin/sessions?cursor=${cursor("v1:s:-999999999999999:1")}`, admin],
    [`/api/admin/sessions?cursor=${cursor("v1:s:999999999999999:1")}`, admin],
    [`/api/sessions/${crypto.randomUUID()}/messages?limit=0x10`, {}],
    [`/api/sessions/${crypto.randomUUID()}/messages?limit=1e3`, {}],
    ["/api/admin/sessions?limit=+5", admin],
  ];
  for (const [path, headers] of /** @type {[string, Record<string, string>][]} */ (refused)) {
    const reply = await send(`GET ${path}`, path, { headers });
    expect(reply.status === 400, `GET ${path}: ${reply.status}, not 400`);
  }
  const source = { title: "Passage\u0000", url: "https://book.example/a", snippet: "Lone \ud800", score: 0.5 };
  const imported = await send("import with U+0000 in a source", "/api/sessions/import", {
    method: "POST",
    headers: json,
    body: JSON.stringify({
      import_id: crypto.randomUUID(),
      messages: [
        { sender: "user", message: "What is the ZMP?" },
        { sender: "bot", message: "A point.", sources: [source] },
      ],
    }),
  });
  expect(imported.status === 400, `import with U+0000 in a source: ${imported.status}, not 400`);

  progress(
    `hostile inputs: a session of ${LONG_SESSION_MESSAGES} messages of ${LONG_MESSAGE_CHARS} emoji, read page by page...`,
  );
  const longText = "🤖".repeat(LONG_MESSAGE_CHARS);
  const longSession = await stack.seedConversation({
    messages: LONG_SESSION_MESSAGES,
    question: longText,
    answer: longText,
  });
  const paths = {
    history: (/** @type {string} */ after) => `/api/sessions/${longSession}/messages?limit=1000${after}`,
    "useChat history": (/** @type {string} */ after) => `/api/ui/chat/${longSession}/messages?limit=1000${after}`,
    "admin conversation": (/** @type {string} */ after) => `/api/admin/sessions/${longSession}?limit=1000${after}`,
  };
  for (const [name, pathOf] of Object.entries(paths)) {
    const seen = [];
    let after = "";
    let pages = 0;
    let largest = 0;
    for (;;) {
      const reply = await send(`${name} page ${pages + 1}`, pathOf(after), {
        headers: name.startsWith("admin") ? admin : {},
      });
      if (reply.status !== 200) {
        result.violations.push(`${name} page ${pages + 1}: ${reply.status} ${reply.body.slice(0, 200)}`);
        break;
      }
      pages++;
      const bytes = Buffer.byteLength(reply.body);
      largest = Math.max(largest, bytes);
      const page = JSON.parse(reply.body);
      seen.push(
        ...page.messages.map(
          (/** @type {{ seq?: number, metadata?: { seq?: number } }} */ m) => m.seq ?? m.metadata?.seq,
        ),
      );
      expect(bytes <= PAGE_BUDGET_BYTES + 64 * 1024, `${name}: a page of ${bytes} bytes`);
      if (!page.next_cursor || pages > LONG_SESSION_MESSAGES) break;
      after = `&cursor=${page.next_cursor}`;
    }
    const inOrder = seen.length === LONG_SESSION_MESSAGES && seen.every((seq, i) => seq === i + 1);
    expect(
      inOrder,
      `${name}: ${seen.length} messages over ${pages} pages, not seq 1 to ${LONG_SESSION_MESSAGES} once each`,
    );
    expect(pages > 1, `${name}: all ${LONG_SESSION_MESSAGES} long messages in one page`);
    progress(`hostile inputs: ${name}: ${pages} pages, the largest ${Math.round(largest / 1024)} KiB`);
  }

  await stack.stopWrangler(service);
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
