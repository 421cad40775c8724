// The request kinds `npm run bench` and `npm run bench:profile` measure, the data they need, and
// the load generator that sends them.
//
// The load uses http.request on an http.Agent with keepAlive and maxSockets = connections, so a
// run uses exactly that many connections (it reports how many it opened), each sending its next
// request as soon as the previous answer has been read to the end.
import http from "node:http";

/** The fake model's credential: its scenario is set for this key. */
export const FAKE_KEY = "bench-key";
export const STREAM_CHUNKS = 1000;

/**
 * The service's settings for answers from the fake model and Qdrant at `fakeUrl`.
 *
 * @param {string} fakeUrl
 */
export function ragVars(fakeUrl) {
  return {
    RATE_LIMITS: "off",
    LLM_BASE_URL: `${fakeUrl}/v1`,
    LLM_API_KEY: FAKE_KEY,
    LLM_MODEL: "bench-model",
    EMBEDDING_MODEL: "bench-embedding",
    QDRANT_URL: `${fakeUrl}/qdrant`,
    QDRANT_API_KEY: FAKE_KEY,
    QDRANT_COLLECTION: "book",
  };
}

/** The service's settings for the echo responder: every model setting empty. */
export const echoVars = {
  RATE_LIMITS: "off",
  LLM_BASE_URL: "",
  LLM_API_KEY: "",
  LLM_MODEL: "",
  EMBEDDING_MODEL: "",
  QDRANT_URL: "",
  QDRANT_API_KEY: "",
  QDRANT_COLLECTION: "",
};

/**
 * @typedef {{ method: string, path: string, headers?: Record<string, string>, body?: string }} RequestSpec
 * @typedef {{ status: number, body: Buffer, ms: number }} Answer
 * @typedef {{
 *   sessions: Record<string, string>,
 *   fakeUrl?: string,
 *   echoTarget?: string,
 *   readerToken?: string,
 *   nextQuestion: () => string,
 * }} WorkloadContext
 * @typedef {{
 *   id: string,
 *   title: string,
 *   instance: "floor" | "echo" | "rag",
 *   usesDatabase: boolean,
 *   usesModel?: boolean,
 *   signedIn?: boolean,
 *   status: number,
 *   prepare?: (ctx: WorkloadContext, target: string) => Promise<void>,
 *   request: (ctx: WorkloadContext) => RequestSpec,
 *   verify?: (answer: Answer) => string | undefined,
 * }} Kind
 */

/** @param {unknown} body @returns {RequestSpec} */
function postChat(body, headers = {}) {
  return {
    method: "POST",
    path: "/api/chat",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

/** @param {string} fakeUrl @param {unknown} scenario */
async function setScenario(fakeUrl, scenario) {
  const response = await fetch(`${fakeUrl}/__fake/scenarios/${encodeURIComponent(FAKE_KEY)}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(scenario),
  });
  if (!response.ok) throw new Error(`fake upstream: scenario refused (${response.status})`);
}

/** The model's pieces in the streamed kinds: STREAM_CHUNKS words, "w0 w1 …". */
const streamChunks = Array.from({ length: STREAM_CHUNKS }, (_, i) => `w${i} `);

/** The fake model streams streamChunks with no delay between them. @param {WorkloadContext} ctx */
function streamScenario(ctx) {
  return setScenario(/** @type {string} */ (ctx.fakeUrl), { chat: { chunks: streamChunks, chunkDelayMs: 0 } });
}

/**
 * A request to one of the floor's routes that call the fake model (bench/floor/index.ts).
 *
 * @param {"/fetch" | "/drain"} path
 * @param {WorkloadContext} ctx
 * @returns {RequestSpec}
 */
function floorCallingModel(path, ctx) {
  return {
    method: "POST",
    path,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ url: `${ctx.fakeUrl}/v1/chat/completions`, key: FAKE_KEY }),
  };
}

/**
 * A session holding `turns` echo turns (2 messages each), sent with `headers`; its UUID.
 *
 * @param {string} target
 * @param {number} turns
 * @param {WorkloadContext} ctx
 * @param {Record<string, string>} [headers]
 */
async function sessionWithTurns(target, turns, ctx, headers = {}) {
  const first = await send(target, postChat({ question: ctx.nextQuestion() }, headers));
  if (first.status !== 200) throw new Error(`seeding: POST /api/chat answered ${first.status}`);
  const sessionUuid = JSON.parse(first.body.toString()).session_uuid;
  if (turns > 1) {
    await runLoad({
      target,
      connections: 4,
      maxRequests: turns - 1,
      seconds: 300,
      request: () => postChat({ question: ctx.nextQuestion(), session_uuid: sessionUuid }, headers),
      expectStatus: 200,
    });
  }
  return sessionUuid;
}

/** The bench reader's Authorization header. @param {WorkloadContext} ctx */
function signedIn(ctx) {
  if (!ctx.readerToken) throw new Error("the signed-in kinds need the bench issuer's token (bench-issuer.mjs)");
  return { Authorization: `Bearer ${ctx.readerToken}` };
}

/** @param {number} count @returns {(answer: Answer) => string | undefined} */
function pageOf(count) {
  return (answer) => {
    const page = JSON.parse(answer.body.toString());
    return page.messages?.length === count ? undefined : `expected ${count} messages, got ${page.messages?.length}`;
  };
}

/** @type {Kind[]} */
export const KINDS = [
  {
    id: "floor",
    title: "floor: bare Hono Worker, GET /",
    instance: "floor",
    usesDatabase: false,
    status: 200,
    request: () => ({ method: "GET", path: "/" }),
  },
  {
    id: "not-found",
    title: "unknown path (404 problem, no database)",
    instance: "echo",
    usesDatabase: false,
    status: 404,
    request: () => ({ method: "GET", path: "/bench/nothing-here" }),
  },
  {
    id: "health",
    title: "GET /health",
    instance: "echo",
    usesDatabase: true,
    status: 200,
    request: () => ({ method: "GET", path: "/health" }),
  },
  {
    id: "history-10",
    title: "GET messages, page of 10 (session of 10)",
    instance: "echo",
    usesDatabase: true,
    status: 200,
    prepare: async (ctx, target) => {
      ctx.sessions.history10 ??= await sessionWithTurns(target, 5, ctx);
    },
    request: (ctx) => ({ method: "GET", path: `/api/sessions/${ctx.sessions.history10}/messages?limit=10` }),
    verify: pageOf(10),
  },
  {
    id: "history-10-signed-in",
    title: "GET messages, page of 10 (session of 10), signed in: the reader's own session, with their token",
    instance: "echo",
    usesDatabase: true,
    signedIn: true,
    status: 200,
    // Started with the token, so the reader owns it (docs/api.md §17.2): the page is read only
    // with that token, which the service verifies on every request.
    prepare: async (ctx, target) => {
      if (ctx.sessions.history10SignedIn) return;
      const sessionUuid = await sessionWithTurns(target, 5, ctx, signedIn(ctx));
      const anonymous = await send(target, { method: "GET", path: `/api/sessions/${sessionUuid}/messages?limit=10` });
      if (anonymous.status !== 404)
        throw new Error(`the reader's session is not owned: ${anonymous.status} without token`);
      ctx.sessions.history10SignedIn = sessionUuid;
    },
    request: (ctx) => ({
      method: "GET",
      path: `/api/sessions/${ctx.sessions.history10SignedIn}/messages?limit=10`,
      headers: signedIn(ctx),
    }),
    verify: pageOf(10),
  },
  {
    id: "page-floor",
    title: "floor: bare Hono Worker reading the same page with postgres.js, 1 statement",
    instance: "floor",
    usesDatabase: true,
    status: 200,
    // The session is the page of 10's, made through the service: the floor knows no schema rules.
    prepare: async (ctx) => {
      if (!ctx.echoTarget) throw new Error("page-floor seeds its session through the echo service");
      ctx.sessions.history10 ??= await sessionWithTurns(ctx.echoTarget, 5, ctx);
    },
    request: (ctx) => ({ method: "GET", path: `/page/${ctx.sessions.history10}` }),
    verify: pageOf(10),
  },
  {
    id: "history-1000",
    title: "GET messages, page of 1,000 (session of 1,000)",
    instance: "echo",
    usesDatabase: true,
    status: 200,
    prepare: async (ctx, target) => {
      ctx.sessions.history1000 ??= await sessionWithTurns(target, 500, ctx);
    },
    request: (ctx) => ({ method: "GET", path: `/api/sessions/${ctx.sessions.history1000}/messages?limit=1000` }),
    verify: pageOf(1000),
  },
  {
    id: "chat-echo",
    title: "POST /api/chat, echo answer, existing session",
    instance: "echo",
    usesDatabase: true,
    status: 200,
    prepare: async (ctx, target) => {
      ctx.sessions.echo ??= await sessionWithTurns(target, 1, ctx);
    },
    request: (ctx) => postChat({ question: ctx.nextQuestion(), session_uuid: ctx.sessions.echo }),
    verify: (answer) => (JSON.parse(answer.body.toString()).bot_message ? undefined : "no bot_message"),
  },
  {
    id: "rag",
    title: "POST /api/chat, RAG answer, not streamed",
    instance: "rag",
    usesDatabase: true,
    status: 200,
    prepare: async (ctx, target) => {
      await setScenario(/** @type {string} */ (ctx.fakeUrl), {});
      ctx.sessions.rag ??= await sessionWithTurns(target, 1, ctx);
    },
    request: (ctx) => postChat({ question: ctx.nextQuestion(), session_uuid: ctx.sessions.rag, stream: false }),
    verify: (answer) => {
      const turn = JSON.parse(answer.body.toString());
      return turn.answer === "Fake answer." && turn.sources?.length > 0
        ? undefined
        : "the answer did not come from the fake model with sources";
    },
  },
  {
    id: "fetch-floor",
    title: "floor: bare Hono Worker making one subrequest to the fake model, small JSON answer",
    instance: "floor",
    usesDatabase: false,
    usesModel: true,
    status: 200,
    prepare: async (ctx) => {
      await setScenario(/** @type {string} */ (ctx.fakeUrl), {});
    },
    request: (ctx) => floorCallingModel("/fetch", ctx),
    verify: (answer) => (JSON.parse(answer.body.toString()).keys > 0 ? undefined : "the model's answer was not read"),
  },
  {
    id: "rag-stream",
    title: `POST /api/chat, RAG answer streamed in ${STREAM_CHUNKS.toLocaleString("en")} chunks`,
    instance: "rag",
    usesDatabase: true,
    status: 200,
    prepare: async (ctx, target) => {
      await streamScenario(ctx);
      ctx.sessions.ragStream ??= await sessionWithTurns(target, 1, ctx);
    },
    request: (ctx) =>
      postChat(
        { question: ctx.nextQuestion(), session_uuid: ctx.sessions.ragStream, stream: true },
        {
          Accept: "text/event-stream",
        },
      ),
    // The service batches the model's pieces into fewer delta events (docs/api.md §4.3): what
    // must hold is that the events carry the whole answer, in order.
    verify: (answer) => {
      const text = answer.body.toString();
      if (!/^event: done$/m.test(text)) return "the stream did not end with a done event";
      const streamed = [...text.matchAll(/^event: delta\ndata: (.*)$/gm)]
        .map((match) => JSON.parse(match[1]).text)
        .join("");
      const expected = streamChunks.join("");
      return streamed === expected ? undefined : "the delta events do not add up to the model's 1,000 chunks";
    },
  },
  {
    id: "stream-floor",
    title: `floor: bare Hono Worker reading the model's stream of ${STREAM_CHUNKS.toLocaleString("en")} chunks`,
    instance: "floor",
    usesDatabase: false,
    usesModel: true,
    status: 200,
    prepare: async (ctx) => {
      await streamScenario(ctx);
    },
    request: (ctx) => floorCallingModel("/drain", ctx),
    verify: (answer) =>
      JSON.parse(answer.body.toString()).bytes > STREAM_CHUNKS * 50 ? undefined : "the model's stream was not read",
  },
  {
    id: "ui-stream",
    title: `POST /api/ui/chat (useChat), RAG answer streamed in ${STREAM_CHUNKS.toLocaleString("en")} chunks`,
    instance: "rag",
    usesDatabase: true,
    status: 200,
    prepare: async (ctx, target) => {
      await streamScenario(ctx);
      ctx.sessions.uiStream ??= await sessionWithTurns(target, 1, ctx);
    },
    // The last-message-only body of the README's set-up; a new message id each time, so no turn
    // is taken for a replay.
    request: (ctx) => {
      const question = ctx.nextQuestion();
      return {
        method: "POST",
        path: "/api/ui/chat",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          id: ctx.sessions.uiStream,
          message: { id: question, role: "user", parts: [{ type: "text", text: question }] },
          trigger: "submit-message",
        }),
      };
    },
    verify: (answer) => {
      const chunks = answer.body
        .toString()
        .split("\n\n")
        .filter((event) => event.startsWith("data: {"))
        .map((event) => JSON.parse(event.slice(6)));
      if (chunks.at(-1)?.type !== "finish") return "the stream did not end with a finish chunk";
      const streamed = chunks
        .filter((chunk) => chunk.type === "text-delta")
        .map((chunk) => chunk.delta)
        .join("");
      const expected = streamChunks.join("");
      return streamed === expected ? undefined : "the text-delta chunks do not add up to the model's 1,000 chunks";
    },
  },
];

/** A fresh context: questions are unique across the run, so no turn is taken for a replay. */
export function newContext(/** @type {string | undefined} */ fakeUrl) {
  const run = Math.random().toString(36).slice(2, 8);
  let question = 0;
  return /** @type {WorkloadContext} */ ({
    sessions: {},
    fakeUrl,
    nextQuestion: () => `bench ${run} question ${++question}: what is a zero moment point?`,
  });
}

/**
 * One request on its own connection, body read to the end.
 *
 * @param {string} target base URL
 * @param {RequestSpec} spec
 * @param {http.Agent | false} [agent]
 * @param {Set<import("node:net").Socket>} [sockets] collects the sockets used
 * @returns {Promise<Answer>}
 */
export function send(target, spec, agent = false, sockets) {
  const { hostname, port } = new URL(target);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const headers = { ...spec.headers };
    if (spec.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(spec.body));
    const request = http.request({ host: hostname, port, method: spec.method, path: spec.path, headers, agent });
    request.on("socket", (socket) => sockets?.add(socket));
    request.on("error", reject);
    request.on("response", (response) => {
      /** @type {Buffer[]} */
      const parts = [];
      response.on("data", (part) => parts.push(part));
      response.on("error", reject);
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts), ms: performance.now() - started }),
      );
    });
    request.end(spec.body);
  });
}

/**
 * Sends requests on `connections` keep-alive connections until `seconds` have passed or
 * `maxRequests` were sent, whichever comes first. Every answer must have `expectStatus`;
 * `verify` checks the first one in full.
 *
 * @param {{
 *   target: string,
 *   connections: number,
 *   seconds: number,
 *   maxRequests: number,
 *   request: () => RequestSpec,
 *   expectStatus: number,
 *   verify?: (answer: Answer) => string | undefined,
 * }} options
 */
export async function runLoad({ target, connections, seconds, maxRequests, request, expectStatus, verify }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  /** @type {Set<import("node:net").Socket>} */
  const sockets = new Set();
  /** @type {number[]} */
  const latencies = [];
  let sent = 0;
  let failed = false;
  let verified = !verify;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (!failed && sent < maxRequests && performance.now() < deadline) {
      sent++;
      try {
        const answer = await send(target, request(), agent, sockets);
        if (answer.status !== expectStatus) {
          throw new Error(`HTTP ${answer.status} (expected ${expectStatus}): ${answer.body.toString().slice(0, 300)}`);
        }
        if (!verified && verify) {
          verified = true;
          const problem = verify(answer);
          if (problem) throw new Error(`${problem}: ${answer.body.toString().slice(0, 500)}`);
        }
        latencies.push(answer.ms);
      } catch (error) {
        failed = true; // the other connections stop too
        throw error;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    agent.destroy();
  }
  return { latencies, elapsedMs: performance.now() - started, connectionsOpened: sockets.size };
}

/** @param {number[]} values @param {number} p */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/**
 * How a streamed answer reaches the reader: the fake model sends `chunks` pieces `delayMs` apart,
 * each stamped with the time it sent it (its scenario's stampChunks); the events are read as they
 * arrive. Returns, over `turns` turns: the delay from the model sending the first piece to the
 * reader having it, the longest any piece took, the longest gap between two events, and the
 * events per answer.
 *
 * @param {string} target the RAG service's base URL
 * @param {WorkloadContext} ctx
 * @param {{ chunks: number, delayMs: number, turns: number }} options
 */
export async function measureStreamTiming(target, ctx, { chunks, delayMs, turns }) {
  await setScenario(/** @type {string} */ (ctx.fakeUrl), {
    chat: { chunks: Array.from({ length: chunks }, () => "x"), chunkDelayMs: delayMs, stampChunks: true },
  });
  const firstWords = [];
  const slowestPiece = [];
  const longestGap = [];
  const events = [];
  for (let turn = 0; turn < turns; turn++) {
    const arrivals = await readStream(target, postChat({ question: ctx.nextQuestion(), stream: true }));
    const deltas = arrivals.filter((arrival) => arrival.event === "delta");
    const delays = deltas.flatMap(({ at, data }) =>
      [...String(JSON.parse(data).text).matchAll(/<t:(\d+)>/g)].map((match) => at - Number(match[1])),
    );
    if (delays.length !== chunks) throw new Error(`stream timing: ${delays.length} of ${chunks} pieces arrived`);
    firstWords.push(/** @type {number} */ (delays[0]));
    slowestPiece.push(Math.max(...delays));
    longestGap.push(Math.max(...deltas.slice(1).map((delta, i) => delta.at - deltas[i].at)));
    events.push(deltas.length);
  }
  return { firstWords, slowestPiece, longestGap, events };
}

/**
 * Sends a streamed request and notes when each event arrived (Date.now(), the clock the fake
 * stamps with).
 *
 * @param {string} target
 * @param {RequestSpec} spec
 * @returns {Promise<{ event: string, data: string, at: number }[]>}
 */
function readStream(target, spec) {
  const { hostname, port } = new URL(target);
  return new Promise((resolve, reject) => {
    const headers = { ...spec.headers, "Content-Length": String(Buffer.byteLength(spec.body ?? "")) };
    const request = http.request({ host: hostname, port, method: spec.method, path: spec.path, headers, agent: false });
    request.on("error", reject);
    request.on("response", (response) => {
      /** @type {{ event: string, data: string, at: number }[]} */
      const arrivals = [];
      let buffer = "";
      response.setEncoding("utf8");
      response.on("data", (text) => {
        const at = Date.now();
        buffer += text;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
          arrivals.push({ event, data: /^data: (.*)$/m.exec(block)?.[1] ?? "", at });
        }
      });
      response.on("error", reject);
      response.on("end", () => resolve(arrivals));
    });
    request.end(spec.body);
  });
}
