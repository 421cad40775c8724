// `npm run test:faults`: what the service does, and what it keeps, while PostgreSQL restarts,
// freezes, has a session's row locked elsewhere, or runs out of connections. docs/reliability.md
// explains it and holds the figures of the last full run.
//
// Starts, on free 127.0.0.1 ports, a throw-away PostgreSQL 17 with a small max_connections and
// `wrangler dev` of the service (echo answers, rate limits off), then runs a baseline and one
// phase per fault: chat turns that retry as docs/api.md §4.2 says and history reads
// (scripts/faults-load.mjs) while the fault is put on, held and lifted
// (scripts/faults-inject.mjs), then every acknowledged turn is looked up in the database
// (scripts/faults-check.mjs). Last, hostile input from every side: an upstream sending text
// PostgreSQL cannot store, times it cannot hold, a session of 1,000 long messages
// (scripts/faults-hostile.mjs). Prints a report and a one-line summary, writes the report into
// docs/reliability.md after a full run, and exits 1 if a message was lost, altered or stored
// twice, a seq has a hole, a read was stale, or any 5xx other than a 503 (or any 4xx) was
// answered. Stops everything it started, also on Ctrl-C and on failure.
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { BenchStack, describeMachine, runOnStack, SERVICE_CONFIG, sleep, versions } from "./bench-stack.mjs";
import { echoVars } from "./bench-workload.mjs";
import { checkTurns, countOtherConnections } from "./faults-check.mjs";
import { runHostileInputs } from "./faults-hostile.mjs";
import {
  exhaustConnections,
  freezeDatabase,
  holdSessionLock,
  releaseEverything,
  restartDatabase,
  thawNow,
} from "./faults-inject.mjs";
import { CLIENT_TIMEOUT_MS, createSessions, Load, MAX_ATTEMPTS, now } from "./faults-load.mjs";
import { REPO_ROOT } from "./local-database.mjs";

const HELP = `npm run test:faults [-- options]

  --short        the CI version: shorter phases and holds, fewer requests (or FAULTS_SHORT=1)
  --only a,b     only these faults (the baseline always runs): restart, freeze, lock, connections,
                 hostile
  --docs FILE    write the report into FILE, between its markers (default: docs/reliability.md
                 after a full run of every fault, nowhere after --short or --only)
  --no-docs      write no report file
  --json FILE    also write the figures as JSON`;

const { values: options } = parseArgs({
  options: {
    short: { type: "boolean", default: ["1", "true", "yes"].includes(process.env.FAULTS_SHORT ?? "") },
    only: { type: "string" },
    docs: { type: "string" },
    "no-docs": { type: "boolean", default: false },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (options.help) {
  console.log(HELP);
  process.exit(0);
}

/** DB_TIMEOUT_MS of the service under test: its default, so the figures are the ones deployed. */
const DB_TIMEOUT_MS = 5_000;
/**
 * statement_timeout set on the database by migration drizzle/0001. It, not lock_timeout (2 s), is
 * what bounds a turn on a locked session: lock_timeout applies to each lock wait, and a statement
 * queued behind another waiter for the same row waits first for that waiter's tuple lock, then
 * for the holder's transaction (measured: 55P03 after 2.0 s for the first waiter, 3.9 s for the
 * ones behind it).
 */
const STATEMENT_TIMEOUT_MS = 4_000;
/** How far past its deadline a request may end and still meet the target. */
const DEADLINE_MARGIN_MS = 1_000;
/** Small enough to be exhausted quickly, large enough for the load (8 clients) with room to spare. */
const MAX_CONNECTIONS = 40;

const SETTINGS = {
  full: {
    sessions: 4,
    turnClients: 6,
    readClients: 2,
    turnPauseMs: 100,
    readPauseMs: 200,
    maxRequests: 3_000,
    baselineMs: 10_000,
    leadMs: 4_000,
    afterMs: 8_000,
    restartDownMs: 2_000,
    freezeMs: 10_000,
    lockMs: 8_000,
    connectionsMs: 8_000,
    hostileTurns: 30,
  },
  short: {
    sessions: 4,
    turnClients: 6,
    readClients: 2,
    turnPauseMs: 100,
    readPauseMs: 200,
    maxRequests: 800,
    baselineMs: 3_000,
    leadMs: 2_000,
    afterMs: 3_000,
    restartDownMs: 1_000,
    freezeMs: 6_000,
    lockMs: 3_000,
    connectionsMs: 3_000,
    hostileTurns: 9,
  },
};
const settings = options.short ? SETTINGS.short : SETTINGS.full;

/**
 * @typedef {{ database: NonNullable<BenchStack["database"]>, url: string, sessions: string[] }} PhaseContext
 * @typedef {{
 *   id: string,
 *   title: string,
 *   deadline: { name: string, ms: number },
 *   inject?: (ctx: PhaseContext) => Promise<import("./faults-inject.mjs").FaultWindow>,
 *   recoveryOf?: (record: import("./faults-load.mjs").RequestRecord, ctx: PhaseContext) => boolean,
 * }} Phase
 */

const dbTimeout = { name: "DB_TIMEOUT_MS", ms: DB_TIMEOUT_MS };
/** @type {Phase[]} */
const PHASES = [
  { id: "baseline", title: "Baseline, no fault", deadline: dbTimeout },
  {
    id: "restart",
    title: "PostgreSQL restarted: fast shutdown, then started again on the same data and port",
    deadline: dbTimeout,
    inject: (ctx) => restartDatabase(ctx.database, settings.restartDownMs),
  },
  {
    id: "freeze",
    title: `PostgreSQL frozen for ${settings.freezeMs / 1000} s: SIGSTOP to every process of the cluster, then SIGCONT`,
    deadline: dbTimeout,
    inject: (ctx) => freezeDatabase(/** @type {number} */ (ctx.database.pid()), settings.freezeMs),
  },
  {
    id: "lock",
    title: `A session's row locked from another connection for ${settings.lockMs / 1000} s`,
    deadline: { name: "statement_timeout (drizzle/0001)", ms: STATEMENT_TIMEOUT_MS },
    inject: (ctx) => holdSessionLock(ctx.url, /** @type {string} */ (ctx.sessions[0]), settings.lockMs),
    // Only turns on the locked session wait; the others, and every read, go on meanwhile.
    recoveryOf: (record, ctx) => record.kind === "turn" && record.session === ctx.sessions[0],
  },
  {
    id: "connections",
    title: `More connections than the server allows (max_connections ${MAX_CONNECTIONS}) for ${settings.connectionsMs / 1000} s`,
    deadline: dbTimeout,
    inject: (ctx) => exhaustConnections(ctx.url, settings.connectionsMs),
  },
];

const wanted = options.only?.split(",").map((id) => id.trim());
const unknown = wanted?.filter(
  (id) => id !== "hostile" && !PHASES.some((phase) => phase.id === id && id !== "baseline"),
);
if (unknown?.length) {
  console.error(
    `test:faults: unknown fault ${unknown.join(", ")}; faults: restart, freeze, lock, connections, hostile`,
  );
  process.exit(2);
}
const runsHostile = !wanted || wanted.includes("hostile");
const phases = PHASES.filter((phase) => phase.id === "baseline" || !wanted || wanted.includes(phase.id));
// Only a full run of every phase replaces the figures in docs/reliability.md by default.
const docsFile =
  options["no-docs"] || ((options.short || options.only) && !options.docs)
    ? undefined
    : path.resolve(options.docs ?? path.join(REPO_ROOT, "docs", "reliability.md"));

const stack = new BenchStack();
stack.beforeStop.push(releaseEverything);

const progress = (/** @type {string} */ line) => console.error(`test:faults: ${line}`);

/**
 * One phase: load, the fault after `leadMs`, load for `afterMs` after it is lifted, then the
 * turns under way finish their retries and the database is checked.
 *
 * @param {Phase} phase
 * @param {import("./bench-stack.mjs").WranglerInstance} service
 * @param {string} url
 */
async function runPhase(phase, service, url) {
  const database = /** @type {NonNullable<BenchStack["database"]>} */ (stack.database);
  const sessions = await createSessions(service.base, settings.sessions, phase.id);
  const ctx = { database, url, sessions };
  const load = new Load({
    base: service.base,
    label: phase.id,
    sessions,
    turnWorkers: settings.turnClients,
    readWorkers: settings.readClients,
    turnPauseMs: settings.turnPauseMs,
    readPauseMs: settings.readPauseMs,
    maxRequests: settings.maxRequests,
  });
  const began = now();
  load.start();
  /** @type {import("./faults-inject.mjs").FaultWindow | undefined} */
  let window;
  try {
    if (phase.inject) {
      await sleep(settings.leadMs);
      window = await phase.inject(ctx);
      await sleep(settings.afterMs);
    } else {
      await sleep(settings.baselineMs);
    }
  } finally {
    await load.finish();
  }
  const loadEnded = now();
  // A statement the Worker gave up on may still complete (docs/api.md §8); give it a moment.
  await sleep(1_000);
  const check = await checkTurns(url, sessions, load.turns);
  const connectionsAfter = await countOtherConnections(url);
  await service.assertNoCrash();
  const logged = await serviceLog(service.logFile, phase.id);
  return summarize(phase, ctx, load, window, check, logged, connectionsAfter, loadEnded - began);
}

/**
 * The service's log lines (docs/api.md §11) of this phase's requests, by request id.
 *
 * @param {string} logFile
 * @param {string} label
 * @returns {Promise<Map<string, { status: number, ms: number, code?: string, stream?: string, cause?: any }>>}
 */
async function serviceLog(logFile, label) {
  const text = await readFile(logFile, "utf8").catch(() => "");
  const entries = new Map();
  for (const rawLine of text.split("\n")) {
    // wrangler prints console.error lines as "✘ [ERROR] {…}", in colour.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes begin with ESC
    const line = rawLine.replace(/\x1b\[[0-9;]*m/g, "");
    const start = line.indexOf('{"request_id":');
    if (start < 0 || !line.includes(`"request_id":"faults-${label}-`)) continue;
    try {
      const entry = JSON.parse(line.slice(start, line.lastIndexOf("}") + 1));
      entries.set(entry.request_id, entry);
    } catch {}
  }
  return entries;
}

/**
 * Why the phase's requests failed, from their log lines.
 *
 * @param {Awaited<ReturnType<typeof serviceLog>>} entries
 * @returns {Record<string, number>} "status code: cause" → requests, most first
 */
function failureCauses(entries) {
  /** @type {Map<string, number>} */
  const causes = new Map();
  for (const entry of entries.values()) {
    if (entry.status < 500) continue;
    const cause = entry.cause ?? {};
    const why = [cause.error, cause.sqlstate, cause.reason ?? cause.code, cause.at].filter(Boolean).join(" ");
    const key = `${entry.status} ${entry.code}${entry.stream ? " (in the stream)" : ""}: ${why || "no cause logged"}`;
    causes.set(key, (causes.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...causes].sort((a, b) => b[1] - a[1]));
}

/**
 * @param {Phase} phase
 * @param {PhaseContext} ctx
 * @param {Load} load
 * @param {import("./faults-inject.mjs").FaultWindow | undefined} window
 * @param {import("./faults-check.mjs").Check} check
 * @param {Awaited<ReturnType<typeof serviceLog>>} logged
 * @param {number} connectionsAfter
 * @param {number} elapsedMs
 */
function summarize(phase, ctx, load, window, check, logged, connectionsAfter, elapsedMs) {
  const requests = load.requests;
  /** @param {(record: import("./faults-load.mjs").RequestRecord) => string | null} keyOf */
  const tally = (keyOf) => {
    /** @type {Record<string, number>} */
    const counts = {};
    for (const record of requests) {
      const key = keyOf(record);
      if (key !== null) counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };
  const longest = requests.reduce(
    (most, record) => (record.endedAt - record.sentAt > most.endedAt - most.sentAt ? record : most),
    /** @type {import("./faults-load.mjs").RequestRecord} */ (requests[0]),
  );
  const recovery = (/** @type {(r: import("./faults-load.mjs").RequestRecord) => boolean} */ matches) => {
    if (!window) return null;
    const lifted = window.liftedAt;
    const first = requests
      .filter((r) => r.sentAt >= lifted && r.status === 200 && matches(r))
      .sort((a, b) => a.endedAt - b.endedAt)[0];
    return first ? first.endedAt - lifted : null;
  };
  const concerned = (/** @type {import("./faults-load.mjs").RequestRecord} */ r) => phase.recoveryOf?.(r, ctx) ?? true;
  const turns = load.turns;
  return {
    id: phase.id,
    title: phase.title,
    deadline: phase.deadline,
    details: window?.details ?? `${Math.round(elapsedMs / 1000)} s of load`,
    seconds: elapsedMs / 1000,
    requests: requests.length,
    turnAttempts: requests.filter((r) => r.kind === "turn").length,
    reads: requests.filter((r) => r.kind === "read").length,
    ok: requests.filter((r) => r.status === 200).length,
    okDuringFault: window
      ? requests.filter((r) => r.status === 200 && r.sentAt >= window.startedAt && r.sentAt < window.liftedAt).length
      : null,
    unavailable: tally((r) => (r.status === 503 ? (r.code ?? "no code") : null)),
    other5xx: tally((r) => (r.status !== null && r.status >= 500 && r.status !== 503 ? `${r.status} ${r.code}` : null)),
    client4xx: tally((r) => (r.status !== null && r.status >= 400 && r.status < 500 ? `${r.status} ${r.code}` : null)),
    networkErrors: tally((r) => r.error),
    longest: {
      ms: longest ? longest.endedAt - longest.sentAt : 0,
      what: longest
        ? `${longest.kind}, ${longest.status === null ? longest.error : `${longest.status} ${longest.code ?? ""}`}`.trim()
        : "",
      // The Worker's own time, from its log line: the rest is wrangler dev's proxy and the client.
      serviceMs: longest ? (logged.get(longest.requestId)?.ms ?? null) : null,
    },
    recoveryMs: recovery(concerned),
    recoveryTurnMs: recovery((r) => r.kind === "turn" && concerned(r)),
    turns: {
      started: turns.length,
      acknowledged: turns.filter((t) => t.outcome === "acknowledged").length,
      givenUp: turns.filter((t) => t.outcome === "given up").length,
      refused: turns.filter((t) => t.outcome === "refused").length,
      badAnswers: turns.filter((t) => t.outcome === "bad answer").length,
      retried: turns.filter((t) => t.attempts > 1).length,
      mostAttempts: Math.max(0, ...turns.map((t) => t.attempts)),
    },
    check,
    readProblems: load.readProblems,
    connectionsAfter,
    logged: failureCauses(logged),
  };
}

/** @typedef {ReturnType<typeof summarize>} PhaseResult */

/** What makes the run fail: every entry is a broken promise of docs/api.md. @param {PhaseResult} r */
function violations(r) {
  const sum = (/** @type {Record<string, number>} */ counts) => Object.values(counts).reduce((a, b) => a + b, 0);
  return [
    [r.check.acknowledgedMissing, "acknowledged turns missing"],
    [r.check.acknowledgedAltered, "acknowledged turns stored otherwise"],
    [r.check.duplicatedMessages, "duplicated messages"],
    [r.check.seqProblems, "sessions with seq holes"],
    [r.check.strangers, "messages of no turn"],
    [sum(r.other5xx), "5xx other than 503"],
    [sum(r.client4xx), "4xx"],
    [r.turns.badAnswers, "200s that were not the turn's answer"],
    [r.readProblems.length, "stale or broken history pages"],
  ]
    .filter(([count]) => Number(count) > 0)
    .map(([count, what]) => `${count} ${what}`);
}

async function main() {
  const started = new Date();
  const startedAt = now();
  const loadBefore = os.loadavg();

  progress(`starting PostgreSQL (max_connections ${MAX_CONNECTIONS})...`);
  const url = await stack.startDatabase({ maxConnections: MAX_CONNECTIONS });
  progress("starting wrangler dev of the service...");
  const service = await stack.startWrangler({
    name: "service (echo)",
    config: SERVICE_CONFIG,
    vars: { ...echoVars, DB_TIMEOUT_MS: String(DB_TIMEOUT_MS) },
    databaseUrl: url,
    readyPath: "/health",
  });

  /** @type {PhaseResult[]} */
  const results = [];
  for (const phase of phases) {
    progress(`${phase.id}...`);
    const result = await runPhase(phase, service, url);
    results.push(result);
    const problems = violations(result);
    progress(
      `${phase.id}: ${result.requests} requests, ${result.turns.acknowledged} turns acknowledged, longest ` +
        `${Math.round(result.longest.ms)} ms${problems.length ? `; ${problems.join(", ")}` : ""}`,
    );
  }

  const hostile = runsHostile
    ? await runHostileInputs({ stack, databaseUrl: url, turns: settings.hostileTurns, progress })
    : null;
  if (hostile) {
    progress(
      `hostile: ${hostile.requests} requests (${listed(hostile.statuses)})` +
        `${hostile.violations.length ? `; ${hostile.violations.length} violations` : ""}`,
    );
  }

  const report = {
    date: started.toISOString(),
    mode: options.short ? "short" : "full",
    seconds: (now() - startedAt) / 1000,
    machine: describeMachine(loadBefore),
    versions: { ...(await versions(service)), postgres: await stack.postgresVersion() },
    settings: {
      ...settings,
      dbTimeoutMs: DB_TIMEOUT_MS,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      maxConnections: MAX_CONNECTIONS,
      maxAttempts: MAX_ATTEMPTS,
      clientTimeoutMs: CLIENT_TIMEOUT_MS,
    },
    phases: results,
    hostile,
  };
  const text = markdown(report);
  console.log(text);
  if (docsFile) {
    await writeReport(docsFile, text);
    progress(`report written to ${path.relative(process.cwd(), docsFile)}`);
  }
  if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);

  const failed = [
    ...results.flatMap((r) => violations(r).map((v) => `${r.id}: ${v}`)),
    ...(hostile?.violations.map((v) => `hostile: ${v}`) ?? []),
  ];
  const all = (/** @type {(r: PhaseResult) => number} */ pick) => results.reduce((a, r) => a + pick(r), 0);
  const slowest = results.reduce((a, r) => (r.longest.ms > a.longest.ms ? r : a));
  console.log(
    `test:faults: ${failed.length ? "FAILED" : "ok"}, ${results.length} phases in ${Math.round(report.seconds)} s: ` +
      `${all((r) => r.requests)} requests, ${all((r) => r.turns.acknowledged)} turns acknowledged, ` +
      `${all((r) => r.check.acknowledgedMissing)} lost, ${all((r) => r.check.duplicatedMessages)} duplicated, ` +
      `${all((r) => Object.values(r.other5xx).reduce((a, b) => a + b, 0))} non-503 5xx, ` +
      `${all((r) => Object.values(r.networkErrors).reduce((a, b) => a + b, 0))} network errors, longest ` +
      `${Math.round(slowest.longest.ms)} ms (${slowest.id})` +
      `${hostile ? `; hostile inputs: ${hostile.requests} requests, ${hostile.violations.length} violations` : ""}` +
      `${failed.length ? `; ${failed.join("; ")}` : ""}`,
  );
  if (failed.length) process.exitCode = 1;
}

const MARK_BEGIN = "<!-- npm run test:faults writes from here -->";
const MARK_END = "<!-- to here -->";

/** Puts `text` between the markers of `file`, or at its end when it has none. */
async function writeReport(/** @type {string} */ file, /** @type {string} */ text) {
  const before = await readFile(file, "utf8").catch(() => "# Reliability under faults\n");
  const begin = before.indexOf(MARK_BEGIN);
  const end = before.indexOf(MARK_END);
  const block = `${MARK_BEGIN}\n\n${text}\n\n${MARK_END}`;
  const after =
    begin >= 0 && end > begin
      ? `${before.slice(0, begin)}${block}${before.slice(end + MARK_END.length)}`
      : `${before.trimEnd()}\n\n${block}\n`;
  await writeFile(file, after);
}

/** @param {number} value */
const whole = (value) => Math.round(value).toLocaleString("en");

/** @param {Record<string, number>} counts */
function listed(counts) {
  const entries = Object.entries(counts);
  return entries.length ? entries.map(([key, n]) => `${key} ${n}`).join(", ") : "0";
}

/** The report, in Markdown. @param {any} report */
function markdown(report) {
  const m = report.machine;
  const v = report.versions;
  const s = report.settings;
  const lines = [
    `## ${report.date.slice(0, 10)}, ${report.mode === "short" ? "`--short`, " : ""}local (${m.cores} cores, wrangler ${v.wrangler} / workerd ${v.workerd}, PostgreSQL ${v.postgres} embedded)`,
    "",
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}; Node ${v.node}, Hono ${v.hono}. Load average before ` +
      `the run: ${m.loadAverageBefore.join(", ")}. The run took ${Math.round(report.seconds)} s. Each phase: ` +
      `${s.sessions} new sessions, ${s.turnClients} clients sending turns (${s.turnPauseMs} ms between turns, up to ` +
      `${s.maxAttempts} attempts each) and ${s.readClients} reading the newest ${20} messages of a session ` +
      `(${s.readPauseMs} ms between reads); the fault ${s.leadMs / 1000} s into the load, then ${s.afterMs / 1000} s ` +
      `of load after it was lifted; the baseline is ${s.baselineMs / 1000} s of load. DB_TIMEOUT_MS ` +
      `${whole(s.dbTimeoutMs)} (the default), statement_timeout ${whole(s.statementTimeoutMs)} ms, max_connections ${s.maxConnections}.`,
  ];
  for (const r of report.phases) {
    const target = r.deadline.ms + DEADLINE_MARGIN_MS;
    const mark = (/** @type {boolean} */ good) => (good ? "✓" : "✗");
    const zero = (/** @type {number} */ n) => `${n} ${mark(n === 0)}`;
    const sum = (/** @type {Record<string, number>} */ counts) => Object.values(counts).reduce((a, b) => a + b, 0);
    const t = r.turns;
    const c = r.check;
    lines.push(
      "",
      `### ${r.title}`,
      "",
      `${r.details}.`,
      "",
      "| figure | measured | target |",
      "| --- | --- | --- |",
      `| requests sent | ${r.requests} (${r.turnAttempts} turn attempts, ${r.reads} reads) | |`,
      `| 200 | ${r.ok}${r.okDuringFault === null ? "" : ` (${r.okDuringFault} sent while the fault was on)`} | |`,
      `| 503 by \`code\` | ${listed(r.unavailable)} | |`,
      `| other 5xx | ${listed(r.other5xx)} ${mark(sum(r.other5xx) === 0)} | 0 |`,
      `| 4xx | ${listed(r.client4xx)} ${mark(sum(r.client4xx) === 0)} | 0 |`,
      `| network errors | ${listed(r.networkErrors)} | |`,
      `| longest request | ${whole(r.longest.ms)} ms (${r.longest.what}${r.longest.serviceMs === null ? "" : `; ${whole(r.longest.serviceMs)} ms in the Worker`}) ${mark(r.longest.ms <= target)} | ≤ ${whole(target)} ms: ${r.deadline.name} ${whole(r.deadline.ms)} ms + ${whole(DEADLINE_MARGIN_MS)} |`,
      `| turns | ${t.started} started, ${t.acknowledged} acknowledged, ${t.givenUp} given up after ${s.maxAttempts} attempts, ${t.refused} refused; ${t.retried} retried, at most ${t.mostAttempts} attempts | |`,
      `| acknowledged turns missing | ${zero(c.acknowledgedMissing)} | 0 |`,
      `| acknowledged turns stored otherwise than acknowledged | ${zero(c.acknowledgedAltered)} | 0 |`,
      `| duplicated messages | ${zero(c.duplicatedMessages)} | 0 |`,
      `| sessions with a hole or a repeat in \`seq\` | ${zero(c.seqProblems)} | 0 |`,
      `| stale or broken history pages | ${zero(r.readProblems.length)} | 0 |`,
      `| retried turns whose question a failed attempt had stored | ${c.storedByEarlierAttempt} (${c.answeredByEarlierAttempt} with their answer too) | reported |`,
      `| turns never acknowledged but stored | ${c.storedNotAcknowledged} (${c.storedNotAcknowledgedAnswered} with their answer) | reported |`,
      `| questions left without an answer | ${c.questionsWithoutAnswer} | reported |`,
      `| recovery: first 200 of a request sent after the lift | ${r.recoveryMs === null ? "—" : `${whole(r.recoveryMs)} ms after it`}${r.recoveryTurnMs === null ? "" : `; first acknowledged turn ${whole(r.recoveryTurnMs)} ms after it`} | |`,
      `| connections to PostgreSQL left 1 s after the load | ${r.connectionsAfter} | |`,
    );
    const logged = Object.entries(r.logged);
    if (logged.length) {
      lines.push("", `Why, from the service's log: ${logged.map(([why, n]) => `${why} (${n})`).join("; ")}.`);
    }
    const problems = [...c.problems, ...r.readProblems.slice(0, 5)];
    if (problems.length) lines.push("", "Found:", "", ...problems.map((p) => `- ${p}`));
  }
  const h = report.hostile;
  if (h) {
    lines.push(
      "",
      "### Hostile input from every side",
      "",
      `${s.hostileTurns} turns (JSON, events and useChat in turn) whose passages and answer hold U+0000, lone ` +
        "surrogates, a surrogate pair split across two stream chunks and script URLs; times PostgreSQL cannot " +
        "hold and numbers that are not plain digits; an import holding U+0000; a session of 1,000 messages of " +
        `8,000 emoji read page by page in its three histories. ${h.requests} requests in ${Math.round(h.seconds)} s, ` +
        `by status: ${listed(h.statuses)}. Violations (a 5xx, an answer stored otherwise than streamed, a page ` +
        `over its budget, a refusal that was not a 400): ${h.violations.length} ${h.violations.length ? "✗" : "✓"}.`,
      ...h.violations.slice(0, 10).map((/** @type {string} */ v) => `- ${v}`),
    );
  }
  return lines.join("\n");
}

await runOnStack("test:faults", stack, main, thawNow);
