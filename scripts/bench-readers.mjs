// `npm run bench:readers`: what GET /api/me/sessions (a signed-in reader's conversations) costs
// as one reader's sessions grow from 10 to 10,000, among many other readers' and anonymous ones.
// docs/benchmarks.md ("2026-12-07: readers (issue 18)") explains it.
//
// Starts, on free 127.0.0.1 ports, a throw-away PostgreSQL 17 (scripts/bench-stack.mjs), a
// sign-in provider's key set (scripts/bench-issuer.mjs), and writes with SQL: four measured
// readers with 10, 100, 1,000 and 10,000 sessions, 1,000 other readers with 100 sessions each,
// and 50,000 anonymous sessions, each session with its first question, their times spread over
// 90 days and their rows in random order, so that a reader's sessions are scattered over the
// table and only the index can find them. Then VACUUM ANALYZE, and `wrangler dev` of the service
// pointed at the key set. For each measured reader, two requests with the reader's token: the
// first page (limit=20) and the list's last page, from a cursor as deep as the list goes. Each:
// latency, Worker CPU and PostgreSQL CPU on one keep-alive connection after a warm-up;
// statements and round trips through scripts/pg-roundtrips.mjs; and EXPLAIN (ANALYZE, BUFFERS)
// of the statement, built by the service's own query function (src/db/readers.ts, bundled for
// Node) from the values the route gives it: the index entries and buffers it reads must not grow
// with the reader's sessions. Prints a Markdown section (and every plan with --plans FILE), and
// stops everything it started, also on Ctrl-C and on failure.
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startBenchIssuer } from "./bench-issuer.mjs";
import {
  BenchStack,
  countRoundTrips,
  describeMachine,
  loadServiceModules,
  numberOption,
  postgresCpuMs,
  runOnStack,
  SERVICE_CONFIG,
  sleep,
  versions,
} from "./bench-stack.mjs";
import { echoVars, percentile, runLoad } from "./bench-workload.mjs";

/** The measured readers' sessions. */
const READER_SESSIONS = [10, 100, 1_000, 10_000];
/** Around them: other readers, each with the same number of sessions, and anonymous sessions. */
const OTHER_READERS = 1_000;
const OTHER_READER_SESSIONS = 100;
const ANONYMOUS_SESSIONS = 50_000;
/** The page the README's React example asks for, and the route's default. */
const PAGE = 20;
/** Set for the service, and given to the statement EXPLAIN runs, so both see the same values. */
const RETENTION_DAYS = 365;

/**
 * @typedef {{ sessions: number, subject: string, token: string }} MeasuredReader
 * @typedef {{ id: string, title: string, reader: MeasuredReader, path: string, rows: number, read: number }} Kind
 *   rows: the page's sessions; read: the statement's (the page's and one more, if more follow)
 */

const HELP = `npm run bench:readers [-- options]

  --requests N         timed requests of each kind, after 3 of warm-up (default 20)
  --count-requests N   requests of each kind through the round-trip counter (default 5)
  --plans FILE         also write EXPLAIN (ANALYZE, BUFFERS) of every kind's statement to FILE
  --json FILE          also write the figures as JSON`;

const { values: options } = parseArgs({
  options: {
    requests: { type: "string", default: "20" },
    "count-requests": { type: "string", default: "5" },
    plans: { type: "string" },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (options.help) {
  console.log(HELP);
  process.exit(0);
}

/** @param {string} name @param {number} max */
const option = (name, max) => numberOption("bench:readers", options, name, { min: 1, max, integer: true });
const requests = option("requests", 10_000);
const countRequests = option("count-requests", 1000);

const stack = new BenchStack();
const progress = (/** @type {string} */ line) => console.error(`bench:readers: ${line}`);

/**
 * The readers and their sessions, each session with one question (seq 1) as its first message,
 * its activity that question's time, somewhere in the last 90 days. Rows go in in random order,
 * so ids follow neither readers nor times.
 *
 * @param {any} sql a postgres.js client (one connection)
 * @param {string} issuer the tokens' iss
 */
async function seed(sql, issuer) {
  await sql`set statement_timeout = 0`;
  await sql`select setseed(0.18)`;
  await sql`
    insert into readers (issuer, subject)
    select ${issuer}, 'other-' || i from generate_series(1, ${OTHER_READERS}) as i
    union all
    select ${issuer}, 'reader-' || n from unnest(${READER_SESSIONS}::int[]) as n`;
  await sql`
    insert into chat_sessions (session_uuid, created_at, last_message_at, message_count, reader_id)
    select gen_random_uuid(), at, at, 1, reader_id
    from (
      select planned.reader_id, date_trunc('milliseconds', now() - interval '90 days' * random()) as at
      from (
        select r.id as reader_id
        from readers r
        cross join lateral generate_series(1,
          case when r.subject like 'reader-%' then split_part(r.subject, '-', 2)::int else ${OTHER_READER_SESSIONS} end)
        union all
        select null from generate_series(1, ${ANONYMOUS_SESSIONS})
      ) as planned
      order by random()
    ) as shuffled`;
  await sql`
    insert into chat_messages (session_id, seq, sender, message, timestamp)
    select id, 1, 'user', 'How does a humanoid robot keep its balance while walking on uneven ground, question '
      || id || '?', last_message_at
    from chat_sessions`;
  const [{ sessions, messages }] = await sql`
    select (select count(*)::int from chat_sessions) as sessions, (select count(*)::int from chat_messages) as messages`;
  const expected =
    READER_SESSIONS.reduce((sum, n) => sum + n, 0) + OTHER_READERS * OTHER_READER_SESSIONS + ANONYMOUS_SESSIONS;
  if (sessions !== expected || messages !== expected) {
    throw new Error(`seeding wrote ${sessions} sessions and ${messages} messages, not ${expected}`);
  }
  return { sessions };
}

/**
 * The service's statement and the route's query schema and cursor, bundled for Node, so that
 * EXPLAIN sees exactly the statement the route runs and the cursors are the route's own.
 */
async function loadStatements() {
  return loadServiceModules(
    "bench-readers-statements",
    `
        export { listReaderSessions } from "./src/db/readers";
        export { readerSessionsQuerySchema } from "./src/schemas/readers";
        export { encodeSessionsCursor } from "./src/schemas/cursor";
        export { drizzle } from "drizzle-orm/postgres-js";`,
  );
}

/**
 * The cursor the route would give after the session at `position` (0-based) of the reader's list,
 * in its order: the page asked for with it starts right after that session.
 *
 * @param {any} statements
 * @param {string} subject
 * @param {number} position
 */
async function cursorAt(statements, subject, position) {
  const [row] = await stack.sql(
    (sql) => sql`
      select coalesce(s.last_message_at, s.created_at) as activity, s.id::int as id
      from chat_sessions s join readers r on r.id = s.reader_id
      where r.subject = ${subject}
      order by coalesce(s.last_message_at, s.created_at) desc, s.id desc
      offset ${position} limit 1`,
  );
  if (!row) throw new Error(`${subject} has no session at position ${position}`);
  return String(statements.encodeSessionsCursor({ activity: row.activity, id: row.id }));
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the statement the request runs: its query parsed by the route's
 * schema and handed to the route's query function, as the route does, on a Drizzle client that
 * records what it sends; the recorded statement is then explained with its parameters, as text
 * (to read) and as JSON (for the figures).
 *
 * @param {any} statements what loadStatements gives
 * @param {Kind} kind
 * @param {string} issuer
 */
async function explain(statements, kind, issuer) {
  const url = new URL(kind.path, "http://bench");
  const query = statements.readerSessionsQuerySchema.parse(Object.fromEntries(url.searchParams));
  /** @type {{ sql: string, params: unknown[] }[]} */
  const sent = [];
  return stack.sql(async (sql) => {
    // Records what the query function sends, as test/admin-search.test.ts does.
    const send = sql.unsafe;
    sql.unsafe = (/** @type {string} */ text, /** @type {unknown[]} */ params, /** @type {unknown} */ options) => {
      sent.push({ sql: text, params });
      return send.call(sql, text, params, options);
    };
    const rows = await statements.listReaderSessions(statements.drizzle(sql), {
      reader: { issuer, subject: kind.reader.subject },
      retentionDays: RETENTION_DAYS,
      after: query.after,
      limit: query.limit + 1,
    });
    sql.unsafe = send;
    if (sent.length !== 1) throw new Error(`${kind.id}: the list ran ${sent.length} statements`);
    const [statement] = /** @type {{ sql: string, params: unknown[] }[]} */ (sent);
    const text = await sql.unsafe(`explain (analyze, buffers) ${statement.sql}`, statement.params);
    const [json] = await sql.unsafe(`explain (analyze, buffers, format json) ${statement.sql}`, statement.params);
    return {
      rows: rows.length,
      text: text.map((/** @type {Record<string, string>} */ row) => row["QUERY PLAN"]).join("\n"),
      ...planFigures(json["QUERY PLAN"][0]),
    };
  });
}

/**
 * What a plan read: the execution time, the buffers of the whole statement, the entries each
 * index gave (rows × loops) and the rows filters threw away, and any table read whole.
 *
 * @param {any} plan EXPLAIN's JSON, one statement
 */
function planFigures(plan) {
  /** @type {Record<string, number>} */
  const indexRows = {};
  let removedByFilter = 0;
  /** @type {string[]} */
  const seqScans = [];
  /** @param {any} node */
  const walk = (node) => {
    const loops = node["Actual Loops"] ?? 1;
    if (node["Index Name"]) {
      const key = `${node["Node Type"]} using ${node["Index Name"]}`;
      indexRows[key] = (indexRows[key] ?? 0) + node["Actual Rows"] * loops;
    }
    if (node["Node Type"] === "Seq Scan") seqScans.push(node["Relation Name"]);
    removedByFilter += (node["Rows Removed by Filter"] ?? 0) * loops;
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan.Plan);
  return {
    executionMs: plan["Execution Time"],
    buffers: plan.Plan["Shared Hit Blocks"] + plan.Plan["Shared Read Blocks"],
    indexRows,
    removedByFilter,
    seqScans,
  };
}

async function main() {
  const started = new Date();
  const loadBefore = os.loadavg();
  const issuer = await startBenchIssuer();
  stack.beforeStop.push(issuer.close);

  progress("starting PostgreSQL...");
  await stack.startDatabase();
  progress("writing the readers and their sessions...");
  const { sessions } = await stack.sql((sql) => seed(sql, issuer.issuer));
  await stack.analyzeDatabase();
  const statements = await loadStatements();

  /** @type {Kind[]} */
  const kinds = [];
  for (const count of READER_SESSIONS) {
    const subject = `reader-${count}`;
    const reader = { sessions: count, subject, token: await issuer.tokenFor(subject) };
    kinds.push({
      id: `first-${count}`,
      title: `${count.toLocaleString("en")} sessions, first page`,
      reader,
      path: `/api/me/sessions?limit=${PAGE}`,
      rows: Math.min(PAGE, count),
      read: Math.min(PAGE + 1, count),
    });
    // From a cursor: halfway down the list, and as far down as it goes. The statement may read
    // the list from its start to the cursor, or from the cursor to its end: the two show either.
    for (const [id, after] of /** @type {const} */ ([
      ["middle", Math.floor(count / 2)],
      ["last", Math.max(1, count - PAGE)],
    ])) {
      const remaining = count - after;
      kinds.push({
        id: `${id}-${count}`,
        title: `${count.toLocaleString("en")} sessions, ${id} page (after session ${after.toLocaleString("en")})`,
        reader,
        path: `/api/me/sessions?limit=${PAGE}&cursor=${await cursorAt(statements, subject, after - 1)}`,
        rows: Math.min(PAGE, remaining),
        read: Math.min(PAGE + 1, remaining),
      });
    }
  }

  // The local pool stands in for Hyperdrive's, as for npm run bench (docs/benchmarks.md).
  const databaseUrl = await stack.startPool();
  const startService = (/** @type {string} */ url) =>
    stack.startWrangler({
      name: "service (readers)",
      config: SERVICE_CONFIG,
      vars: { ...echoVars, ...issuer.authVars(), SESSION_RETENTION_DAYS: String(RETENTION_DAYS) },
      databaseUrl: url,
      readyPath: "/health",
    });
  progress("starting wrangler dev...");
  const instance = await startService(databaseUrl);
  const load = (/** @type {string} */ target, /** @type {Kind} */ kind, /** @type {number} */ maxRequests) =>
    runLoad({
      target,
      connections: 1,
      seconds: 600,
      maxRequests,
      request: () => ({ method: "GET", path: kind.path, headers: { Authorization: `Bearer ${kind.reader.token}` } }),
      expectStatus: 200,
      verify: (answer) => {
        const page = JSON.parse(answer.body.toString());
        return page.sessions?.length === kind.rows ? undefined : `expected ${kind.rows} sessions`;
      },
    });

  /** @type {Record<string, any>} */
  const results = {};
  for (const kind of kinds) {
    progress(`${kind.id}...`);
    await load(instance.base, kind, 3);
    await sleep(200);
    const postmaster = /** @type {number} */ (stack.postmasterPid);
    const before = { worker: instance.workerCpuMs(), postgres: postgresCpuMs(postmaster), fetches: issuer.fetches() };
    const run = await load(instance.base, kind, requests);
    await sleep(200);
    const after = { worker: instance.workerCpuMs(), postgres: postgresCpuMs(postmaster), fetches: issuer.fetches() };
    const n = run.latencies.length;
    results[kind.id] = {
      requests: n,
      p50Ms: percentile(run.latencies, 50),
      p95Ms: percentile(run.latencies, 95),
      workerCpuMsPerRequest: (after.worker - before.worker) / n,
      postgresCpuMsPerRequest: (after.postgres - before.postgres) / n,
      keySetFetches: after.fetches - before.fetches,
    };
  }
  await instance.assertNoCrash();

  progress("restarting the service behind the round-trip counter...");
  const { counted, perKind } = await countRoundTrips({
    stack,
    instance,
    startService,
    kinds,
    load,
    requests: countRequests,
  });
  for (const kind of kinds) Object.assign(results[kind.id], perKind[kind.id]);

  progress("EXPLAIN (ANALYZE, BUFFERS) of each kind's statement...");
  /** @type {Record<string, string>} */
  const plans = {};
  for (const kind of kinds) {
    const { text, rows, ...figures } = await explain(statements, kind, issuer.issuer);
    if (rows !== kind.read) {
      throw new Error(`${kind.id}: the statement read ${rows} sessions`);
    }
    plans[kind.id] = text;
    results[kind.id].plan = figures;
  }

  const report = {
    date: started.toISOString(),
    machine: describeMachine(loadBefore),
    versions: { ...(await versions(counted)), postgres: await stack.postgresVersion() },
    settings: {
      requests,
      countRequests,
      page: PAGE,
      sessions,
      readerSessions: READER_SESSIONS,
      otherReaders: OTHER_READERS,
      otherReaderSessions: OTHER_READER_SESSIONS,
      anonymousSessions: ANONYMOUS_SESSIONS,
    },
    kinds: kinds.map((kind) => ({
      id: kind.id,
      title: kind.title,
      readerSessions: kind.reader.sessions,
      rows: kind.rows,
      ...results[kind.id],
    })),
  };
  const largest = READER_SESSIONS.at(-1);
  const shown = [`first-${largest}`, `middle-${largest}`, `last-${largest}`];
  console.log(markdown(report, Object.fromEntries(shown.map((id) => [id, plans[id] ?? ""]))));
  if (options.plans) {
    const text = kinds.map((kind) => `## ${kind.id}: GET ${kind.path}\n\n${plans[kind.id]}\n`).join("\n");
    await writeFile(options.plans, text);
    progress(`plans written to ${options.plans}`);
  }
  if (options.json) {
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    progress(`figures written to ${options.json}`);
  }
}

/** @param {number | null | undefined} value @param {number} digits */
function fixed(value, digits) {
  return value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);
}

/**
 * @param {any} report
 * @param {Record<string, string>} shownPlans plans printed whole, by kind
 */
function markdown(report, shownPlans) {
  const v = report.versions;
  const m = report.machine;
  const s = report.settings;
  const lines = [
    `## ${report.date.slice(0, 10)}, a reader's conversations, 10 to 10,000 sessions among ${s.sessions.toLocaleString("en")} (local, ${m.cores} cores, wrangler ${v.wrangler} / workerd ${v.workerd}, PostgreSQL ${v.postgres} embedded)`,
    "",
    `${m.cpu}, ${m.cores} cores; load average before the run: ${m.loadAverageBefore.join(", ")}. ` +
      `\`npm run bench:readers\`: readers with ${s.readerSessions.map((/** @type {number} */ n) => n.toLocaleString("en")).join(", ")} sessions among ` +
      `${s.otherReaders.toLocaleString("en")} other readers' ${(s.otherReaders * s.otherReaderSessions).toLocaleString("en")} and ` +
      `${s.anonymousSessions.toLocaleString("en")} anonymous ones; GET /api/me/sessions?limit=${s.page} with the reader's token, ` +
      `${s.requests} requests of each kind on one keep-alive connection after 3 of warm-up; statements and round trips ` +
      `from ${s.countRequests} more through scripts/pg-roundtrips.mjs; the rest from EXPLAIN (ANALYZE, BUFFERS) of the statement.`,
    "",
    "| reader's page | sessions | p50 ms | p95 ms | Worker CPU ms/request | PostgreSQL CPU ms/request | statements / request | query round trips / request | rows each index gave | rows its filters threw away | buffers | EXPLAIN ANALYZE execution ms |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const kind of report.kinds) {
    const plan = kind.plan;
    const indexRows = Object.entries(plan.indexRows)
      .map(([index, rows]) => `${rows} (${index.replace(/^.* using /, "")})`)
      .join(", ");
    lines.push(
      `| ${kind.title} | ${kind.rows} | ${fixed(kind.p50Ms, 1)} | ${fixed(kind.p95Ms, 1)} | ` +
        `${fixed(kind.workerCpuMsPerRequest, 2)} | ${fixed(kind.postgresCpuMsPerRequest, 2)} | ` +
        `${fixed(kind.statements, 2)} | ${fixed(kind.roundTrips, 2)} | ${indexRows || "—"} | ${plan.removedByFilter} | ` +
        `${plan.buffers} | ${fixed(plan.executionMs, 2)} |`,
    );
  }
  const seqScans = report.kinds.flatMap((/** @type {any} */ kind) => kind.plan.seqScans);
  const fetches = report.kinds.reduce(
    (/** @type {number} */ sum, /** @type {any} */ kind) => sum + kind.keySetFetches,
    0,
  );
  lines.push(
    "",
    `Tables read whole: ${seqScans.length ? [...new Set(seqScans)].join(", ") : "none"}. The key set was fetched ` +
      `${fetches} times during the timed requests.`,
  );
  for (const [id, plan] of Object.entries(shownPlans)) {
    lines.push("", `EXPLAIN (ANALYZE, BUFFERS), ${id}:`, "", "```", plan, "```");
  }
  return lines.join("\n");
}

await runOnStack("bench:readers", stack, main);
