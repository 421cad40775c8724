// The load `npm run test:faults` keeps up while it injects a fault: chat turns sent the way
// docs/api.md §4.2 tells a client to retry them, and history reads. Every HTTP request is
// recorded (when it was sent, when and how it ended), and every turn with what its client was
// told, so that scripts/faults-check.mjs can hold the database to it.
//
// Each request has a connection of its own (no keep-alive), so a network error is the service's
// doing, never a race between a reused socket and the server closing it.
import { randomUUID } from "node:crypto";
import http from "node:http";
import { sleep } from "./bench-stack.mjs";

/** A turn is given up after this many attempts. */
export const MAX_ATTEMPTS = 8;
/** The longest wait asked for by Retry-After that a client honours, in ms; longer asks are cut to it. */
const MAX_RETRY_AFTER_MS = 5_000;
/** A request that has not ended by then is abandoned and counted as a network error. */
export const CLIENT_TIMEOUT_MS = 30_000;
/** Messages per history read: the newest ones, where appends land. */
const READ_LIMIT = 20;

/** The run's clock, in ms: performance.now(), shared with the fault injection. */
export const now = () => performance.now();

/**
 * @typedef {{
 *   kind: "turn" | "read",
 *   session: string,
 *   requestId: string,
 *   sentAt: number,
 *   endedAt: number,
 *   status: number | null,
 *   code: string | null,
 *   error: string | null,
 * }} RequestRecord status null: a network error, described by `error`; code: the problem's code
 *
 * @typedef {{ id: number, seq: number, message: string, client_message_id: string | null }} AckedMessage
 *
 * @typedef {{
 *   clientMessageId: string,
 *   session: string,
 *   question: string,
 *   attempts: number,
 *   lastAttemptAt: number,
 *   outcome: "acknowledged" | "given up" | "refused" | "bad answer",
 *   acknowledged: { user: AckedMessage, bot: AckedMessage } | null,
 * }} Turn lastAttemptAt: wall clock (Date.now()) when the last attempt was sent, to compare with the
 *   database's timestamps; outcome "refused": a 4xx, which is not retried; "bad answer": a 200
 *   that is not this turn's answer
 */

export class Load {
  /**
   * @param {{
   *   base: string,
   *   label: string,
   *   sessions: string[],
   *   turnWorkers: number,
   *   readWorkers: number,
   *   turnPauseMs: number,
   *   readPauseMs: number,
   *   maxRequests: number,
   * }} options maxRequests bounds the requests that start a turn or a read; retries of turns already
   *   started come on top, at most MAX_ATTEMPTS - 1 per turn
   */
  constructor(options) {
    this.options = options;
    /** @type {RequestRecord[]} */
    this.requests = [];
    /** @type {Turn[]} */
    this.turns = [];
    /** @type {string[]} what history reads showed that they should not have (stale or broken pages) */
    this.readProblems = [];
    /** @type {Map<string, number>} per session, the highest seq of an acknowledged answer */
    this.acknowledgedSeq = new Map();
    this.started = 0;
    this.running = false;
    /** @type {Promise<void>[]} */
    this.workers = [];
    this.run = Math.random().toString(36).slice(2, 8);
  }

  start() {
    this.running = true;
    const { turnWorkers, readWorkers } = this.options;
    this.workers = [
      ...Array.from({ length: turnWorkers }, () => this.turnWorker()),
      ...Array.from({ length: readWorkers }, () => this.readWorker()),
    ];
  }

  /** Stops starting turns and reads, and waits for the turns under way to end their retries. */
  async finish() {
    this.running = false;
    await Promise.all(this.workers);
  }

  get mayStart() {
    return this.running && this.started < this.options.maxRequests;
  }

  async turnWorker() {
    const { sessions, turnPauseMs } = this.options;
    while (this.mayStart) {
      this.started++;
      const number = this.turns.length + 1;
      /** @type {Turn} */
      const turn = {
        clientMessageId: randomUUID(),
        session: sessions[number % sessions.length] ?? "",
        question: `faults ${this.run} ${this.options.label} turn ${number}: what keeps a biped upright?`,
        attempts: 0,
        lastAttemptAt: 0,
        outcome: "given up",
        acknowledged: null,
      };
      this.turns.push(turn);
      await this.playTurn(turn);
      await sleep(turnPauseMs);
    }
  }

  /** Sends a turn until it is acknowledged, refused, or MAX_ATTEMPTS were spent on it. */
  async playTurn(/** @type {Turn} */ turn) {
    const body = JSON.stringify({
      question: turn.question,
      session_uuid: turn.session,
      client_message_id: turn.clientMessageId,
    });
    for (;;) {
      turn.attempts++;
      turn.lastAttemptAt = Date.now();
      const { record, body: answer, retryAfter } = await this.send("turn", turn.session, "POST", "/api/chat", body);
      if (record.status === 200) {
        turn.outcome = this.acknowledge(turn, answer) ? "acknowledged" : "bad answer";
        return;
      }
      if (record.status !== null && record.status < 500) {
        turn.outcome = "refused";
        return;
      }
      if (turn.attempts >= MAX_ATTEMPTS) return;
      await sleep(backoff(turn.attempts, retryAfter));
    }
  }

  /** Records what a 200 told the client; false when it is not an answer to this turn. */
  acknowledge(/** @type {Turn} */ turn, /** @type {string} */ body) {
    let answer;
    try {
      answer = JSON.parse(body);
    } catch {
      return false;
    }
    const user = answer?.user_message;
    const bot = answer?.bot_message;
    if (
      answer?.session_uuid !== turn.session ||
      user?.message !== turn.question ||
      user?.client_message_id !== turn.clientMessageId ||
      typeof bot?.id !== "number" ||
      typeof bot?.seq !== "number"
    ) {
      return false;
    }
    turn.acknowledged = {
      user: { id: user.id, seq: user.seq, message: user.message, client_message_id: user.client_message_id },
      bot: { id: bot.id, seq: bot.seq, message: bot.message, client_message_id: bot.client_message_id },
    };
    this.acknowledgedSeq.set(turn.session, Math.max(this.acknowledgedSeq.get(turn.session) ?? 0, bot.seq));
    return true;
  }

  async readWorker() {
    const { sessions, readPauseMs } = this.options;
    while (this.mayStart) {
      this.started++;
      const session = sessions[Math.floor(Math.random() * sessions.length)] ?? "";
      const mustShow = this.acknowledgedSeq.get(session) ?? 0;
      const path = `/api/sessions/${session}/messages?order=desc&limit=${READ_LIMIT}`;
      const { record, body } = await this.send("read", session, "GET", path);
      if (record.status === 200) this.checkPage(record, body, mustShow);
      await sleep(readPauseMs);
    }
  }

  /**
   * A page of the newest messages must run down from its first seq without a hole, and show every
   * answer acknowledged before the read was sent (read-your-writes, docs/api.md §5).
   */
  checkPage(/** @type {RequestRecord} */ record, /** @type {string} */ body, /** @type {number} */ mustShow) {
    /** @type {number[]} */
    let seqs;
    try {
      seqs = JSON.parse(body).messages.map((/** @type {{ seq: number }} */ m) => m.seq);
    } catch {
      this.readProblems.push(`${record.requestId}: a 200 that is not a page of messages`);
      return;
    }
    const top = seqs[0] ?? 0;
    if (seqs.some((seq, i) => seq !== top - i) || (seqs.length < READ_LIMIT && seqs.length !== top)) {
      this.readProblems.push(`${record.requestId}: seqs ${seqs.join(",")} are not contiguous down to 1`);
    }
    if (top < mustShow) {
      this.readProblems.push(`${record.requestId}: newest seq ${top}, but seq ${mustShow} was acknowledged before`);
    }
  }

  /**
   * One HTTP request, recorded.
   *
   * @param {"turn" | "read"} kind
   * @param {string} session
   * @param {string} method
   * @param {string} path
   * @param {string} [body]
   */
  async send(kind, session, method, path, body) {
    const requestId = `faults-${this.options.label}-${this.requests.length + 1}`;
    /** @type {RequestRecord} */
    const record = { kind, session, requestId, sentAt: now(), endedAt: 0, status: null, code: null, error: null };
    this.requests.push(record);
    const answer = await request(this.options.base, { method, path, body, requestId });
    record.endedAt = now();
    if ("error" in answer) {
      record.error = answer.error;
      return { record, body: "", retryAfter: undefined };
    }
    record.status = answer.status;
    if (answer.status >= 400) {
      try {
        record.code = JSON.parse(answer.body).code ?? null;
      } catch {}
    }
    return { record, body: answer.body, retryAfter: answer.retryAfter };
  }
}

/**
 * How long a client waits before the next attempt: Retry-After when the service gave one (cut to
 * MAX_RETRY_AFTER_MS), else 200 ms doubling up to 2 s; plus up to 250 ms of jitter, so that
 * clients refused together do not come back together.
 *
 * @param {number} attempts attempts made so far
 * @param {string | undefined} retryAfter
 */
export function backoff(attempts, retryAfter) {
  const asked = Number(retryAfter);
  const wait =
    retryAfter !== undefined && Number.isFinite(asked) && asked >= 0
      ? Math.min(asked * 1000, MAX_RETRY_AFTER_MS)
      : Math.min(200 * 2 ** (attempts - 1), 2_000);
  return wait + Math.random() * 250;
}

/**
 * One request on a connection of its own, read to the end, within CLIENT_TIMEOUT_MS.
 *
 * @param {string} base
 * @param {{ method: string, path: string, body?: string, requestId: string }} spec
 * @returns {Promise<{ status: number, body: string, retryAfter: string | undefined } | { error: string }>}
 */
export function request(base, { method, path, body, requestId }) {
  const { hostname, port } = new URL(base);
  /** @type {Record<string, string>} */
  const headers = { "X-Request-Id": requestId };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve) => {
    const outgoing = http.request({ host: hostname, port, method, path, headers, agent: false });
    const timer = setTimeout(
      () => outgoing.destroy(new Error(`no answer within ${CLIENT_TIMEOUT_MS} ms`)),
      CLIENT_TIMEOUT_MS,
    );
    const fail = (/** @type {any} */ error) => {
      clearTimeout(timer);
      resolve({ error: error?.code ?? error?.message ?? String(error) });
    };
    outgoing.on("error", fail);
    outgoing.on("response", (response) => {
      /** @type {Buffer[]} */
      const parts = [];
      response.on("data", (part) => parts.push(part));
      response.on("error", fail);
      response.on("end", () => {
        clearTimeout(timer);
        const retryAfter = response.headers["retry-after"];
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(parts).toString("utf8"),
          retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        });
      });
    });
    outgoing.end(body);
  });
}

/**
 * `count` empty sessions (POST /api/sessions), before any fault.
 *
 * @param {string} base
 * @param {number} count
 * @param {string} label
 */
export async function createSessions(base, count, label) {
  /** @type {string[]} */
  const sessions = [];
  for (let i = 1; i <= count; i++) {
    const answer = await request(base, { method: "POST", path: "/api/sessions", requestId: `faults-${label}-s${i}` });
    if ("error" in answer || answer.status !== 201) {
      throw new Error(
        `POST /api/sessions: ${"error" in answer ? answer.error : `HTTP ${answer.status} ${answer.body}`}`,
      );
    }
    sessions.push(JSON.parse(answer.body).session_uuid);
  }
  return sessions;
}
