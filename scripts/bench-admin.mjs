// `npm run bench:admin`: what each request of the admin API costs on a database of 100,000
// messages, or of as many as --messages says. docs/benchmarks.md ("The admin API on 100,000
// messages") explains it.
//
// Starts, on free 127.0.0.1 ports, a throw-away PostgreSQL 17 (scripts/bench-stack.mjs), writes
// 10,000 sessions holding exactly 100,000 messages (or --messages in a tenth as many sessions)
// into it with SQL (90 days of conversations: answers with model metadata and sources, some cut
// short, some questions never answered, some answers rated), runs VACUUM ANALYZE, and starts `wrangler dev` of the service with an
// ADMIN_TOKEN. Then, for each request kind: latency, Worker CPU and PostgreSQL CPU per request on
// one keep-alive connection after a warm-up; statements and round trips per request through
// scripts/pg-roundtrips.mjs; and EXPLAIN (ANALYZE, BUFFERS) of the statements the request runs,
// built by the service's own query functions (src/db/admin.ts and admin-stats.ts, bundled for Node) from the same
// parameters, parsed by the route's own schemas. Prints a Markdown section (and the plans with
// --plans FILE), and stops everything it started, also on Ctrl-C and on failure.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
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
import { REPO_ROOT } from "./local-database.mjs";

/** A word in 10 questions only, whatever the size, and one in none. */
const RARE_WORD = "exoskeleton";
const ABSENT_WORD = "xylophone";
const TOKEN = `bench-admin-${randomBytes(24).toString("hex")}`;

/**
 * @typedef {{ conversation: string }} Facts
 * @typedef {{ id: string, title: string, path: (facts: Facts) => string }} Kind
 */

/** @type {Kind[]} */
const KINDS = [
  { id: "sessions", title: "sessions, first page of 50", path: () => "/api/admin/sessions" },
  {
    id: "sessions-failures",
    title: "sessions with failures (about 1 in 10 passes)",
    path: () => "/api/admin/sessions?has_failures=true",
  },
  {
    id: "sessions-down",
    title: "sessions rated down (about 1 in 15 passes)",
    path: () => "/api/admin/sessions?has_negative_feedback=true",
  },
  {
    id: "sessions-none-pass",
    title: "sessions, a filter no session passes",
    path: () => "/api/admin/sessions?has_negative_feedback=true&min_messages=19",
  },
  {
    id: "sessions-range",
    title: "sessions active in one week, 60 days ago",
    path: () => `/api/admin/sessions?from=${daysAgo(60)}&to=${daysAgo(53)}`,
  },
  {
    id: "conversation",
    title: "a conversation of 18 messages",
    path: (facts) => `/api/admin/sessions/${facts.conversation}`,
  },
  { id: "search-rare", title: `search "${RARE_WORD}" (10 messages)`, path: () => `/api/admin/search?q=${RARE_WORD}` },
  {
    id: "search-common",
    title: 'search "humanoid" (every question), newest 20',
    path: () => "/api/admin/search?q=humanoid",
  },
  {
    id: "search-phrase",
    title: 'search "zero moment point" -gear (most answers)',
    path: () => `/api/admin/search?q=${encodeURIComponent('"zero moment point" -gear')}`,
  },
  {
    id: "search-questions",
    title: 'search "humanoid" in questions only (sender=user), newest 20',
    path: () => "/api/admin/search?q=humanoid&sender=user",
  },
  {
    id: "search-answers-miss",
    title: 'search "relate" (every question, no answer) in answers only (sender=bot)',
    path: () => "/api/admin/search?q=relate&sender=bot",
  },
  {
    id: "search-negation",
    title: `search -${RARE_WORD} (every message but 10), newest 20`,
    path: () => `/api/admin/search?q=-${RARE_WORD}`,
  },
  {
    id: "search-none",
    title: `search "${ABSENT_WORD}" (no message)`,
    path: () => `/api/admin/search?q=${ABSENT_WORD}`,
  },
  { id: "stats-30d", title: "stats, last 30 days by day (the page's default)", path: () => "/api/admin/stats" },
  {
    id: "stats-91d",
    title: "stats, 91 days by day (every message)",
    path: () => `/api/admin/stats?from=${daysAgo(90)}`,
  },
  { id: "stats-48h", title: "stats, last 48 hours by hour", path: () => "/api/admin/stats?bucket=hour" },
  {
    id: "gaps-30d",
    title: "content gaps, last 30 days (1 answer in 40 from weak passages)",
    path: () => "/api/admin/gaps",
  },
  { id: "gaps-91d", title: "content gaps, 91 days (every gap)", path: () => `/api/admin/gaps?from=${daysAgo(91)}` },
  { id: "rated-down", title: "answers rated down, first page of 50", path: () => "/api/admin/rated-down" },
  {
    id: "rated-down-old",
    title: "answers rated down, a week 60 days ago",
    path: () => `/api/admin/rated-down?from=${daysAgo(60)}&to=${daysAgo(53)}`,
  },
  {
    id: "frequent-30d",
    title: "frequent questions, last 30 days (the page's default)",
    path: () => "/api/admin/frequent-questions",
  },
  {
    id: "frequent-90d",
    title: "frequent questions, last 90 days (as the page asks: a kept period)",
    path: () => `/api/admin/frequent-questions?${lastDays(90)}`,
  },
  {
    id: "frequent-other",
    title:
      "frequent questions, a period not kept up to midnight, of about 47,500 questions (added up: near the most allowed)",
    path: () => `/api/admin/frequent-questions?${hoursToMidnight(OTHER_PERIOD_HOURS)}`,
  },
  { id: "sources-30d", title: "sources cited, last 30 days", path: () => "/api/admin/sources" },
];

const HELP = `npm run bench:admin [-- options]

  --messages N         messages in the database, a multiple of 100 up to 10,000,000, in a tenth as
                       many sessions (default 100000)
  --requests N         timed requests of each kind, after 3 of warm-up (default 30)
  --count-requests N   requests of each kind through the round-trip counter (default 5)
  --kinds a,b,...      only these kinds: ${KINDS.map((kind) => kind.id).join(", ")}
  --plans FILE         also write EXPLAIN (ANALYZE, BUFFERS) of every kind's statements to FILE
  --json FILE          also write the figures as JSON`;

const { values: options } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    requests: { type: "string", default: "30" },
    "count-requests": { type: "string", default: "5" },
    kinds: { type: "string" },
    plans: { type: "string" },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (options.help) {
  console.log(HELP);
  process.exit(0);
}

/** A UTC date `days` before today, as the admin API takes it. @param {number} days */
function daysAgo(days) {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The `hours` hours up to `to` (epoch ms), as the admin API takes a period.
 * @param {number} hours @param {number} to
 */
function hoursUpTo(hours, to) {
  return `from=${new Date(to - hours * 3_600_000).toISOString()}&to=${new Date(to).toISOString()}`;
}

/**
 * The last `days` days up to the end of the current hour, as the admin page asks for a period
 * (src/admin/page/period.ts): the frequent questions keep those counted.
 * @param {number} days
 */
function lastDays(days) {
  return hoursUpTo(days * 24, Math.floor(Date.now() / 3_600_000) * 3_600_000 + 3_600_000);
}

/**
 * The `hours` hours up to today's midnight (UTC), a period the frequent questions do not keep.
 * @param {number} hours
 */
function hoursToMidnight(hours) {
  return hoursUpTo(hours, Math.floor(Date.now() / 86_400_000) * 86_400_000);
}

/** @param {string} name @param {number} max */
const option = (name, max) => numberOption("bench:admin", options, name, { min: 1, max, integer: true });
// Sessions of 2, 6, 10, 14 or 18 messages in turn, 10 on average: a multiple of 5 sessions holds
// exactly ten times as many messages, and of 10 lets 10 of them hold RARE_WORD.
const MESSAGES = option("messages", 10_000_000);
if (MESSAGES % 100 !== 0) {
  console.error("bench:admin: --messages must be a multiple of 100 (sessions of 2 to 18 messages in turn)");
  process.exit(2);
}
const SESSIONS = MESSAGES / 10;
// The seeding spreads its questions (half the messages) over 90 days: the hours that hold about
// 47,500 of them, under the 50,000 a period the frequent questions do not keep may hold.
const OTHER_PERIOD_HOURS = Math.max(1, Math.floor(47_500 / (MESSAGES / 2 / (90 * 24))));
const requests = option("requests", 10_000);
const countRequests = option("count-requests", 1000);
const wanted = options.kinds?.split(",").map((id) => id.trim());
const unknownKinds = wanted?.filter((id) => !KINDS.some((kind) => kind.id === id));
if (unknownKinds?.length) {
  console.error(
    `bench:admin: unknown kind ${unknownKinds.join(", ")}; kinds: ${KINDS.map((kind) => kind.id).join(", ")}`,
  );
  process.exit(2);
}
const kinds = KINDS.filter((kind) => !wanted || wanted.includes(kind.id));

const stack = new BenchStack();
const progress = (/** @type {string} */ line) => console.error(`bench:admin: ${line}`);

/**
 * MESSAGES messages in SESSIONS sessions started over the last 90 days, a message every 30 seconds
 * within a session. Every question holds "humanoid" and three of 50 robotics words; every answer
 * "zero moment point"; the first questions of 10 sessions hold RARE_WORD. Each 97th session ends with its last two questions unanswered; each 50th
 * answer is cut short; each 20th is rated (each 60th down, with a comment); each answer cites two
 * of 12 chapters. Deterministic but for the session UUIDs and the times.
 *
 * @param {any} sql a postgres.js client (one connection)
 */
async function seed(sql) {
  await sql`set statement_timeout = 0`;
  await sql`select setseed(0.42)`;
  await sql.unsafe(`
    create temp table seeded as
    select i, gen_random_uuid() as session_uuid,
      date_trunc('milliseconds', now() - interval '90 days' * random()) as started,
      (array[2, 6, 10, 14, 18])[1 + i % 5] as messages,
      i % 97 = 0 as failed
    from generate_series(0, ${SESSIONS - 1}) as i`);
  await sql`
    insert into chat_sessions (session_uuid, created_at, last_message_at, message_count)
    select session_uuid, started, started + interval '30 seconds' * (messages - 1), messages from seeded`;
  // Ids in the order the messages were written, questions and answers interleaved, as in a real
  // table: the search reads the newest messages by id first (src/db/admin.ts).
  await sql.unsafe(`
    create temp table message_ids as
    select s.id as session_id, q.seq,
      row_number() over (order by s.created_at + interval '30 seconds' * (q.seq - 1), s.id, q.seq) as id
    from chat_sessions s cross join lateral generate_series(1, s.message_count) as q(seq)`);
  await sql`create index on message_ids (session_id, seq)`;
  await sql`
    insert into chat_messages (id, session_id, seq, sender, message, timestamp, client_message_id)
    overriding system value
    select (select id from message_ids where session_id = s.id and seq = q.seq), s.id, q.seq, 'user',
      'How does the ' || w[1 + (hashint4(s.id::int * 31 + q.seq) & 2147483647) % 50]
        || ' relate to ' || w[1 + (hashint4(s.id::int * 17 + q.seq) & 2147483647) % 50]
        || ' in a humanoid ' || w[1 + (hashint4(s.id::int * 7 + q.seq) & 2147483647) % 50] || '?'
        || case when seeded.i % ${SESSIONS / 10} = 0 and q.seq = 1 then ${` And an ${RARE_WORD}?`} else '' end,
      s.created_at + interval '30 seconds' * (q.seq - 1), gen_random_uuid()
    from seeded
    join chat_sessions s on s.session_uuid = seeded.session_uuid
    cross join lateral generate_series(1, s.message_count) as q(seq)
    cross join (select array['robot', 'balance', 'gait', 'zero', 'moment', 'point', 'actuator', 'servo',
      'torque', 'sensor', 'lidar', 'camera', 'kinematics', 'inverse', 'dynamics', 'controller', 'walking',
      'grasp', 'hand', 'finger', 'joint', 'battery', 'motor', 'gear', 'spring', 'compliance', 'feedback',
      'loop', 'stability', 'center', 'mass', 'pressure', 'foot', 'ankle', 'knee', 'hip', 'trajectory',
      'planning', 'learning', 'reinforcement', 'policy', 'simulation', 'physics', 'contact', 'friction',
      'impedance', 'force', 'vision', 'speech', 'skin'] as w) words
    where q.seq % 2 = 1 or (seeded.failed and q.seq = s.message_count)`;
  await sql`
    insert into chat_messages (id, session_id, seq, sender, message, timestamp, status, reply_to_id, sources,
      metadata, feedback_rating, feedback_comment, feedback_at)
    overriding system value
    select (select id from message_ids where session_id = u.session_id and seq = u.seq + 1),
      u.session_id, u.seq + 1, 'bot',
      'The ' || split_part(u.message, ' ', 4) || ' matters because a humanoid keeps its balance by moving '
        || 'its zero moment point: the controller reads the sensors and adjusts the torque at each joint. '
        || repeat('More on gait and stability follows. ', 3),
      u.timestamp + interval '20 seconds',
      case when u.id % 50 = 0 then 'incomplete' else 'complete' end,
      u.id,
      jsonb_build_array(
        jsonb_build_object('title', 'Chapter ' || (u.id % 12 + 1), 'url', 'https://book.example/ch' || (u.id % 12 + 1),
          'snippet', 'A passage of the chapter.', 'score',
          -- 1 answer in 40 from weak passages: a content gap (docs/api.md §13.7).
          case when u.id % 40 = 7 then 0.3 else 0.9 - (u.id % 10) / 100.0 end),
        jsonb_build_object('title', 'Chapter ' || (u.id % 7 + 1), 'url', 'https://book.example/ch' || (u.id % 7 + 1),
          'snippet', 'Another passage.', 'score', case when u.id % 40 = 7 then 0.2 else 0.7 - (u.id % 10) / 100.0 end)),
      case when u.id % 50 = 0 then jsonb_build_object('cut_short', 'answer_timeout')
        else jsonb_build_object('model', 'bench-model', 'latency_ms', 600 + (hashint4(u.id::int) & 4095),
          'usage', jsonb_build_object('prompt_tokens', 900 + u.id % 400, 'completion_tokens', 150 + u.id % 200,
            'total_tokens', 1050 + u.id % 400 + u.id % 200),
          'retrieval', jsonb_build_object('provider', 'qdrant', 'collection', 'book', 'passages', 2)) end,
      case when u.id % 20 = 0 and u.id % 50 <> 0 then (case when u.id % 60 = 0 then 'down' else 'up' end) end,
      case when u.id % 60 = 0 and u.id % 50 <> 0 then 'Not what I asked.' end,
      case when u.id % 20 = 0 and u.id % 50 <> 0 then u.timestamp + interval '5 minutes' end
    from chat_messages u
    join chat_sessions s on s.id = u.session_id
    join seeded on seeded.session_uuid = s.session_uuid
    where u.sender = 'user' and u.seq % 2 = 1
      and (u.seq + 1 < s.message_count or (u.seq + 1 = s.message_count and not seeded.failed))`;
  await sql`select setval('chat_messages_id_seq', (select max(id) from chat_messages))`;
  // The counters the service keeps as it writes (src/db/schema.ts, failures and rated_down), which
  // the "failures" and "rated down" filters read; nothing here is imported.
  await sql`
    update chat_sessions s set failures = counted.failures, rated_down = counted.rated_down
    from (
      select session_id,
        (count(*) filter (where sender = 'user') - count(*) filter (where sender = 'bot')
          + count(*) filter (where status = 'incomplete'))::int as failures,
        (count(*) filter (where feedback_rating = 'down'))::int as rated_down
      from chat_messages group by session_id
    ) counted
    where s.id = counted.session_id and (counted.failures > 0 or counted.rated_down > 0)`;
  const [{ messages, sessions, conversation }] = await sql`
    select (select count(*)::int from chat_messages) as messages,
      (select count(*)::int from chat_sessions) as sessions,
      (select session_uuid from chat_sessions where message_count = 18 order by last_message_at desc limit 1)
        as conversation`;
  if (messages !== MESSAGES || sessions !== SESSIONS) {
    throw new Error(`seeding wrote ${sessions} sessions and ${messages} messages`);
  }
  return { conversation: String(conversation) };
}

/**
 * Builds the statistics' rollups (drizzle/0008) of the seeded rows by running the migration's own
 * backfill statements, its last two (mark every hour, then fold a day at a time), as `npm run
 * db:migrate` does on a database that already holds them; the marks the seeding's triggers and the
 * fold's sweep made are dropped first, so both steps do their whole work. Returns how long each took.
 *
 * @param {any} sql a postgres.js client (one connection)
 */
async function backfillRollups(sql) {
  const migration = readFileSync(path.join(REPO_ROOT, "drizzle", "0008_stats_rollups.sql"), "utf8");
  const [mark, fold] = migration.split("--> statement-breakpoint").slice(-2);
  await sql`set statement_timeout = 0`;
  // The seeded messages, which nothing marked as they were written, swept as the first fold after
  // an import of them all would (drizzle/0012).
  let started = performance.now();
  await sql`select stats_sweep()`;
  const sweepMs = performance.now() - started;
  await sql`truncate stats_marks`;
  started = performance.now();
  await sql.unsafe(mark);
  const markMs = performance.now() - started;
  const [{ hours }] = await sql`select count(distinct hour)::int as hours from stats_marks`;
  started = performance.now();
  await sql.unsafe(fold);
  const foldMs = performance.now() - started;
  // What a read pays after writes in the newest hour, which it folds first: that hour again, and
  // its day's histograms.
  await sql`insert into stats_marks (hour) select date_trunc('hour', max(timestamp), 'UTC') from chat_messages`;
  started = performance.now();
  await sql`select stats_fold()`;
  const newestHourMs = performance.now() - started;
  // Migration 0010's backfill: the kept periods of the frequent questions counted whole, as a first
  // fold does (their end set far back makes it count them again).
  await sql`update stats_periods set ends = 'epoch'`;
  started = performance.now();
  await sql`select stats_fold()`;
  return { sweepMs, markMs, foldMs, hours, newestHourMs, periodsMs: performance.now() - started };
}

/**
 * The service's statement builders and the routes' query schemas, bundled for Node, so that
 * EXPLAIN sees exactly the statements the routes run.
 */
async function loadStatements() {
  return loadServiceModules(
    "bench-admin-statements",
    `
        export { listAdminSessions, readConversation, searchMessages } from "./src/db/admin";
        export { readStats } from "./src/db/admin-stats";
        export { listContentGaps } from "./src/db/admin-gaps";
        export { listRatedDown } from "./src/db/admin-rated-down";
        export { listFrequentQuestions } from "./src/db/admin-frequent";
        export { listCitedSources } from "./src/db/admin-sources";
        export { adminFrequentQuestionsQuerySchema, adminSourcesQuerySchema } from "./src/schemas/admin";
        export { adminContentGapsQuerySchema, adminRatedDownQuerySchema } from "./src/schemas/admin";
        export { adminSearchQuerySchema, adminSessionsQuerySchema, adminStatsQuerySchema } from "./src/schemas/admin";
        export { historyQuerySchema } from "./src/schemas/history";
        export { drizzle } from "drizzle-orm/postgres-js";`,
  );
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of each statement a request runs: the request's path is parsed by
 * the route's schema and handed to the route's query function, on a Drizzle client that records
 * what it sends; each recorded statement is then explained with its parameters.
 *
 * @param {any} statements what loadStatements gives
 * @param {Kind} kind
 * @param {Facts} facts
 */
async function explain(statements, kind, facts) {
  const url = new URL(kind.path(facts), "http://bench");
  const query = Object.fromEntries(url.searchParams);
  /** @type {{ sql: string, params: unknown[] }[]} */
  const sent = [];
  return stack.sql(async (sql) => {
    await sql`set statement_timeout = 0`;
    // Records what the query function sends, as test/admin-search.test.ts does.
    const send = sql.unsafe;
    sql.unsafe = (/** @type {string} */ text, /** @type {unknown[]} */ params, /** @type {unknown} */ options) => {
      sent.push({ sql: text, params });
      return send.call(sql, text, params, options);
    };
    const db = statements.drizzle(sql);
    if (url.pathname === "/api/admin/sessions") {
      await statements.listAdminSessions(db, statements.adminSessionsQuerySchema.parse(query));
    } else if (url.pathname.startsWith("/api/admin/sessions/")) {
      const sessionUuid = url.pathname.split("/").pop();
      await statements.readConversation(db, { sessionUuid, ...statements.historyQuerySchema.parse(query) });
    } else if (url.pathname === "/api/admin/search") {
      await statements.searchMessages(db, statements.adminSearchQuerySchema.parse(query));
    } else if (url.pathname === "/api/admin/gaps") {
      await statements.listContentGaps(db, statements.adminContentGapsQuerySchema.parse(query));
    } else if (url.pathname === "/api/admin/rated-down") {
      await statements.listRatedDown(db, statements.adminRatedDownQuerySchema.parse(query));
    } else if (url.pathname === "/api/admin/frequent-questions") {
      await statements.listFrequentQuestions(db, statements.adminFrequentQuestionsQuerySchema.parse(query));
    } else if (url.pathname === "/api/admin/sources") {
      await statements.listCitedSources(db, statements.adminSourcesQuerySchema.parse(query));
    } else {
      await statements.readStats(db, statements.adminStatsQuerySchema.parse(query));
    }
    sql.unsafe = send;
    const plans = [];
    for (const statement of sent) {
      const rows = await sql.unsafe(`explain (analyze, buffers) ${statement.sql}`, statement.params);
      plans.push(rows.map((/** @type {Record<string, string>} */ row) => row["QUERY PLAN"]).join("\n"));
    }
    return plans;
  });
}

async function main() {
  const started = new Date();
  const loadBefore = os.loadavg();
  progress("starting PostgreSQL...");
  await stack.startDatabase();
  progress(`writing ${SESSIONS.toLocaleString("en")} sessions, ${MESSAGES.toLocaleString("en")} messages...`);
  const facts = await stack.sql(seed);
  progress("building the statistics' rollups as migration 0008's backfill does...");
  const backfill = await stack.sql(backfillRollups);
  await stack.analyzeDatabase();
  // The local pool stands in for Hyperdrive's, as for npm run bench (docs/benchmarks.md).
  const databaseUrl = await stack.startPool();

  const startService = (/** @type {string} */ url) =>
    stack.startWrangler({
      name: "service (admin)",
      config: SERVICE_CONFIG,
      vars: { ...echoVars, ADMIN_TOKEN: TOKEN },
      databaseUrl: url,
      readyPath: "/health",
    });
  progress("starting wrangler dev...");
  const instance = await startService(databaseUrl);
  const headers = { Authorization: `Bearer ${TOKEN}` };
  const load = (/** @type {string} */ target, /** @type {Kind} */ kind, /** @type {number} */ maxRequests) =>
    runLoad({
      target,
      connections: 1,
      seconds: 600,
      maxRequests,
      request: () => ({ method: "GET", path: kind.path(facts), headers }),
      expectStatus: 200,
    });

  /** @type {Record<string, any>} */
  const results = {};
  for (const kind of kinds) {
    progress(`${kind.id}...`);
    const first = await fetch(new URL(kind.path(facts), instance.base), { headers });
    // One of the admin API's list responses; `rows` counts whichever list it has.
    const body =
      /** @type {{ sessions?: unknown[], messages?: unknown[], hits?: unknown[], buckets?: unknown[], gaps?: unknown[], answers?: unknown[], questions?: unknown[], sources?: unknown[] }} */ (
        await first.json()
      );
    if (first.status !== 200) {
      // At a size the service does not cope with (a stats request past the statement_timeout),
      // the kind is reported with its answer, and the run goes on with the others.
      const code = /** @type {{ code?: string }} */ (body).code;
      progress(`${kind.id}: ${first.status} ${JSON.stringify(body)}; not timed`);
      results[kind.id] = { failed: `${first.status}${code ? ` ${code}` : ""}`, indexes: [] };
      continue;
    }
    await load(instance.base, kind, 3);
    await sleep(200);
    const postmaster = /** @type {number} */ (stack.postmasterPid);
    const before = { worker: instance.workerCpuMs(), postgres: postgresCpuMs(postmaster) };
    const run = await load(instance.base, kind, requests);
    await sleep(200);
    const after = { worker: instance.workerCpuMs(), postgres: postgresCpuMs(postmaster) };
    const n = run.latencies.length;
    results[kind.id] = {
      rows:
        body.sessions?.length ??
        body.messages?.length ??
        body.hits?.length ??
        body.buckets?.length ??
        body.gaps?.length ??
        body.answers?.length ??
        body.questions?.length ??
        body.sources?.length,
      requests: n,
      p50Ms: percentile(run.latencies, 50),
      p95Ms: percentile(run.latencies, 95),
      workerCpuMsPerRequest: (after.worker - before.worker) / n,
      postgresCpuMsPerRequest: (after.postgres - before.postgres) / n,
    };
  }
  await instance.assertNoCrash();

  progress("restarting the service behind the round-trip counter...");
  const answered = kinds.filter((kind) => !results[kind.id].failed);
  const { counted, perKind } = await countRoundTrips({
    stack,
    instance,
    startService,
    kinds: answered,
    load,
    requests: countRequests,
  });
  for (const kind of answered) Object.assign(results[kind.id], perKind[kind.id]);

  progress("EXPLAIN (ANALYZE, BUFFERS) of each kind's statements...");
  const statements = await loadStatements();
  /** @type {Record<string, string[]>} */
  const plans = {};
  for (const kind of kinds) {
    plans[kind.id] = await explain(statements, kind, facts);
    results[kind.id].executionMs = plans[kind.id]
      .map((plan) => Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? Number.NaN))
      .reduce((sum, ms) => sum + ms, 0);
    results[kind.id].indexes = indexesRead(plans[kind.id]);
  }

  const report = {
    date: started.toISOString(),
    machine: describeMachine(loadBefore),
    versions: { ...(await versions(counted)), postgres: await stack.postgresVersion() },
    settings: { requests, countRequests, sessions: SESSIONS, messages: MESSAGES },
    backfill,
    kinds: kinds.map((kind) => ({ id: kind.id, title: kind.title, path: kind.path(facts), ...results[kind.id] })),
  };
  console.log(markdown(report));
  if (options.plans) {
    const text = kinds
      .map((kind) => `## ${kind.id}: GET ${kind.path(facts)}\n\n${plans[kind.id]?.join("\n\n")}\n`)
      .join("\n");
    await writeFile(options.plans, text);
    progress(`plans written to ${options.plans}`);
  }
  if (options.json) {
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    progress(`figures written to ${options.json}`);
  }
}

/**
 * The indexes the plans read, with how (e.g. "Bitmap Index Scan on chat_messages_message_search"),
 * and whether a table is read whole: the evidence that a request is found through its index.
 * A plan's branch that never ran (the search's way not taken) is left out.
 *
 * @param {string[]} plans EXPLAIN's text
 */
function indexesRead(plans) {
  const scans = new Set();
  for (const plan of plans) {
    const ran = plan
      .split("\n")
      .filter((line) => !line.includes("(never executed)"))
      .join("\n");
    for (const match of ran.matchAll(
      /(Bitmap Index Scan|Index Only Scan(?: Backward)?|Index Scan(?: Backward)?) (?:using|on) (\w+)/g,
    )) {
      scans.add(`${match[1]} ${match[1].startsWith("Bitmap") ? "on" : "using"} ${match[2]}`);
    }
    for (const match of ran.matchAll(/Seq Scan on (\w+)/g)) scans.add(`Seq Scan on ${match[1]}`);
  }
  return [...scans];
}

/** @param {number | null | undefined} value @param {number} digits */
function fixed(value, digits) {
  return value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);
}

/** @param {any} report */
function markdown(report) {
  const v = report.versions;
  const m = report.machine;
  const lines = [
    `## ${report.date.slice(0, 10)}, admin API on ${report.settings.messages.toLocaleString("en")} messages (local, ${m.cores} cores, wrangler ${v.wrangler} / workerd ${v.workerd}, PostgreSQL ${v.postgres} embedded)`,
    "",
    `${m.cpu}, ${m.cores} cores; load average before the run: ${m.loadAverageBefore.join(", ")}. ` +
      `\`npm run bench:admin\`: ${report.settings.requests} requests of each kind on one keep-alive connection ` +
      `after 3 of warm-up; statements and round trips from ${report.settings.countRequests} more through ` +
      "scripts/pg-roundtrips.mjs; PostgreSQL's own execution time from EXPLAIN ANALYZE of the statements.",
    "",
    `Migration 0008's backfill of the statistics' rollups on this database: marking ${fixed(report.backfill.markMs / 1000, 1)} s, ` +
      `folding ${report.backfill.hours.toLocaleString("en")} hours ${fixed(report.backfill.foldMs / 1000, 1)} s. ` +
      `Folding the newest hour again, as a read does after writes in it: ${fixed(report.backfill.newestHourMs, 1)} ms. ` +
      `The fold's sweep of ${MESSAGES.toLocaleString("en")} messages written since it last looked (drizzle/0012), marking their hours: ${fixed(report.backfill.sweepMs / 1000, 1)} s. ` +
      `Migration 0010's backfill, counting the frequent questions' kept periods (7, 30, 90, 365 days) whole: ${fixed(report.backfill.periodsMs / 1000, 1)} s.`,
    "",
    "| request | rows | p50 ms | p95 ms | Worker CPU ms/request | PostgreSQL CPU ms/request | statements / request | query round trips / request | EXPLAIN ANALYZE execution ms |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const kind of report.kinds) {
    if (kind.failed) {
      lines.push(`| ${kind.title} | **${kind.failed}** | — | — | — | — | — | — | ${fixed(kind.executionMs, 1)} |`);
      continue;
    }
    lines.push(
      `| ${kind.title} | ${kind.rows} | ${fixed(kind.p50Ms, 1)} | ${fixed(kind.p95Ms, 1)} | ` +
        `${fixed(kind.workerCpuMsPerRequest, 2)} | ${fixed(kind.postgresCpuMsPerRequest, 2)} | ` +
        `${fixed(kind.statements, 2)} | ${fixed(kind.roundTrips, 2)} | ${fixed(kind.executionMs, 1)} |`,
    );
  }
  lines.push("", "What EXPLAIN (ANALYZE) shows each request's statements read:", "");
  for (const kind of report.kinds) {
    lines.push(`- ${kind.title}: ${kind.indexes.map((/** @type {string} */ scan) => `\`${scan}\``).join(", ") || "—"}`);
  }
  return lines.join("\n");
}

await runOnStack("bench:admin", stack, main);
