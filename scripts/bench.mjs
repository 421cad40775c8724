// `npm run bench`: the Worker's CPU time, latency and PostgreSQL cost per request kind, next to
// the floor (a bare Hono Worker under the same wrangler dev). docs/benchmarks.md explains it.
//
// Starts, on free 127.0.0.1 ports, a throw-away PostgreSQL 17, the test suite's fake model and
// Qdrant, and three `wrangler dev`: the floor, the service with the echo responder, and the
// service answering from the fake model. Each kind runs on one keep-alive connection after a
// warm-up; CPU time is read from /proc/PID/stat of the workerd running the Worker and of
// PostgreSQL before and after. Then the service is restarted behind scripts/pg-roundtrips.mjs
// for a shorter pass that counts round trips and statements. The counter is kept out of the
// timed pass so that its two extra hops per flight, and its CPU time on a 2-core machine, cannot
// show in the figures (on /health the difference was within the noise). Prints a Markdown
// section for docs/benchmarks.md, writes the figures as JSON (--json or BENCH_JSON), and stops
// everything it started, also on Ctrl-C and on failure.
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { parseArgs } from "node:util";
import { startBenchIssuer } from "./bench-issuer.mjs";
import {
  BenchStack,
  CLOCK_TICKS,
  compatibility,
  describeMachine,
  FLOOR_CONFIG,
  numberOption,
  postgresCpuMs,
  runOnStack,
  SERVICE_CONFIG,
  sleep,
  versions,
} from "./bench-stack.mjs";
import { echoVars, KINDS, measureStreamTiming, newContext, percentile, ragVars, runLoad } from "./bench-workload.mjs";

const HELP = `npm run bench [-- options]

  --seconds N              longest run of each kind, after the warm-up (default 8)
  --requests N             most requests of each kind on one connection (default 1000)
  --warmup-seconds N       warm-up of each kind, on the same connection (default 2)
  --throughput-seconds N   run at --connections of the floor, the page of 10 and its floor (default 5; 0: skip)
  --connections N          connections of that run (default 8)
  --count-requests N       requests of each kind through the round-trip counter (default 20; 0: skip)
  --kinds a,b,...          only these kinds (the floor always runs): ${KINDS.map((k) => k.id).join(", ")}
  --label TEXT             heading label, e.g. "before" (default: none)
  --json FILE              also write the figures as JSON (or set BENCH_JSON)`;

const { values: options } = parseArgs({
  options: {
    seconds: { type: "string", default: "8" },
    requests: { type: "string", default: "1000" },
    "warmup-seconds": { type: "string", default: "2" },
    "throughput-seconds": { type: "string", default: "5" },
    connections: { type: "string", default: "8" },
    "count-requests": { type: "string", default: "20" },
    kinds: { type: "string" },
    label: { type: "string", default: "" },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (options.help) {
  console.log(HELP);
  process.exit(0);
}

/** @param {string} name @param {number} max */
const option = (name, max) => numberOption("bench", options, name, { min: 0, max, integer: false });
const settings = {
  seconds: option("seconds", 120),
  requests: option("requests", 100_000),
  warmupSeconds: option("warmup-seconds", 60),
  throughputSeconds: option("throughput-seconds", 120),
  connections: option("connections", 64),
  countRequests: option("count-requests", 1000),
};
const jsonFile = options.json ?? process.env.BENCH_JSON;
const wanted = options.kinds?.split(",").map((id) => id.trim());
const unknown = wanted?.filter((id) => !KINDS.some((kind) => kind.id === id));
if (unknown?.length) {
  console.error(`bench: unknown kind ${unknown.join(", ")}; kinds: ${KINDS.map((k) => k.id).join(", ")}`);
  process.exit(2);
}
const kinds = KINDS.filter((kind) => kind.id === "floor" || !wanted || wanted.includes(kind.id));
const floorKind = /** @type {import("./bench-workload.mjs").Kind} */ (KINDS.find((kind) => kind.id === "floor"));

const stack = new BenchStack();

const progress = (/** @type {string} */ line) => console.error(`bench: ${line}`);

/**
 * Runs one kind on one instance: warm-up, then the timed load with CPU read around it.
 *
 * @param {import("./bench-workload.mjs").Kind} kind
 * @param {import("./bench-stack.mjs").WranglerInstance} instance
 * @param {import("./bench-workload.mjs").WorkloadContext} ctx
 * @param {number} connections
 * @param {number} seconds
 */
async function measure(kind, instance, ctx, connections, seconds) {
  const load = (/** @type {number} */ loadSeconds, /** @type {number} */ maxRequests) =>
    runLoad({
      target: instance.base,
      connections,
      seconds: loadSeconds,
      maxRequests,
      request: () => kind.request(ctx),
      expectStatus: kind.status,
      verify: kind.verify,
    });
  await load(settings.warmupSeconds, Math.max(connections, 5) * 100);
  await sleep(200);
  const postmaster = /** @type {number} */ (stack.postmasterPid);
  const before = { worker: instance.workerCpuMs(), postgres: postgresCpuMs(postmaster), rest: instance.restCpuMs() };
  // The throughput run is bounded by time only: its figure is requests per second.
  const run = await load(seconds, connections > 1 ? Number.POSITIVE_INFINITY : settings.requests);
  // Work a request leaves behind (waitUntil) belongs to it.
  await sleep(200);
  const after = { worker: instance.workerCpuMs(), postgres: postgresCpuMs(postmaster), rest: instance.restCpuMs() };
  const n = run.latencies.length;
  return {
    requests: n,
    seconds: run.elapsedMs / 1000,
    requestsPerSecond: n / (run.elapsedMs / 1000),
    connectionsOpened: run.connectionsOpened,
    workerCpuMsPerRequest: (after.worker - before.worker) / n,
    postgresCpuMsPerRequest: kind.usesDatabase ? (after.postgres - before.postgres) / n : null,
    restOfWranglerCpuMsPerRequest: (after.rest - before.rest) / n,
    p50Ms: percentile(run.latencies, 50),
    p95Ms: percentile(run.latencies, 95),
  };
}

async function main() {
  const started = new Date();
  const loadBefore = os.loadavg();
  const [service, floor] = [await compatibility(SERVICE_CONFIG), await compatibility(FLOOR_CONFIG)];
  if (service.date !== floor.date || service.flags !== floor.flags) {
    throw new Error(
      `bench/floor/wrangler.toml must have the compatibility date and flags of wrangler.toml ` +
        `(${service.date}, [${service.flags}]); it has ${floor.date}, [${floor.flags}]`,
    );
  }

  progress("starting PostgreSQL...");
  await stack.startDatabase();
  const databaseUrl = await stack.startPool();
  const needsRag = kinds.some((kind) => kind.instance === "rag");
  const fakeUrl = needsRag || kinds.some((kind) => kind.usesModel) ? await stack.startFakeUpstream() : undefined;
  const ctx = newContext(fakeUrl);
  // The signed-in kinds' sign-in provider: its key set on 127.0.0.1, and a token for one reader.
  // Only then does the service get the AUTH_* settings, so that every other kind runs as before.
  const issuer = kinds.some((kind) => kind.signedIn) ? await startBenchIssuer() : undefined;
  if (issuer) {
    stack.beforeStop.push(issuer.close);
    ctx.readerToken = await issuer.tokenFor("bench-reader");
  }

  progress("starting wrangler dev: the floor and the service...");
  const startService = (/** @type {"echo" | "rag"} */ kind, /** @type {string} */ url) =>
    stack.startWrangler({
      name: kind === "echo" ? "service (echo)" : "service (RAG)",
      config: SERVICE_CONFIG,
      vars: kind === "echo" ? { ...echoVars, ...issuer?.authVars() } : ragVars(/** @type {string} */ (fakeUrl)),
      databaseUrl: url,
      readyPath: "/health",
    });
  const [floorInstance, echoInstance, ragInstance] = await Promise.all([
    stack.startWrangler({ name: "floor", config: FLOOR_CONFIG, databaseUrl }),
    startService("echo", databaseUrl),
    needsRag ? startService("rag", databaseUrl) : undefined,
  ]);
  const instances = { floor: floorInstance, echo: echoInstance, rag: ragInstance };
  ctx.echoTarget = echoInstance.base;
  const instanceFor = (/** @type {import("./bench-workload.mjs").Kind} */ kind) => {
    const instance = instances[kind.instance];
    if (!instance) throw new Error(`no instance for ${kind.id}`);
    return instance;
  };

  progress("seeding the sessions...");
  for (const kind of kinds) await kind.prepare?.(ctx, instanceFor(kind).base);
  await stack.analyzeDatabase();

  /** @type {Record<string, any>} */
  const results = {};
  for (const kind of kinds) {
    progress(`${kind.id}...`);
    await kind.prepare?.(ctx, instanceFor(kind).base);
    const fetchesBefore = issuer?.fetches() ?? 0;
    results[kind.id] = await measure(kind, instanceFor(kind), ctx, 1, settings.seconds);
    // Warm-up included: the keys are fetched at most once in the isolate's life, by the seeding.
    if (kind.signedIn) results[kind.id].keySetFetches = (issuer?.fetches() ?? 0) - fetchesBefore;
  }
  progress("floor again, to see the drift over the run...");
  const floorAgain = await measure(floorKind, floorInstance, ctx, 1, settings.seconds);

  /** @type {Record<string, any>} */
  const streaming = {};
  if (ragInstance && kinds.some((kind) => kind.id === "rag-stream")) {
    for (const [id, chunks, delayMs] of /** @type {const} */ ([
      ["50 pieces/s", 100, 20],
      ["200 pieces/s", 200, 5],
    ])) {
      progress(`streamed answers as a reader sees them: ${id}...`);
      streaming[id] = {
        chunks,
        delayMs,
        ...(await measureStreamTiming(ragInstance.base, ctx, { chunks, delayMs, turns: 3 })),
      };
    }
  }

  /** @type {Record<string, any>} */
  const throughput = {};
  const historyKind = kinds.find((kind) => kind.id === "history-10");
  // The page's floor too, when it runs: what any Worker reading the page this way can reach.
  const pageFloorKind = kinds.find((kind) => kind.id === "page-floor");
  if (settings.throughputSeconds > 0 && historyKind) {
    for (const kind of [floorKind, historyKind, ...(pageFloorKind ? [pageFloorKind] : [])]) {
      progress(`${kind.id} on ${settings.connections} connections...`);
      throughput[kind.id] = await measure(
        kind,
        instanceFor(kind),
        ctx,
        settings.connections,
        settings.throughputSeconds,
      );
    }
  }

  /** @type {Record<string, { roundTrips: number, statements: number, connections: number, startupFlights: number, requests: number, keySetFetches?: number }>} */
  const counts = {};
  const counted = kinds.filter((kind) => kind.instance !== "floor");
  if (settings.countRequests > 0 && counted.length > 0) {
    progress("restarting the service behind the round-trip counter...");
    for (const instance of [echoInstance, ragInstance]) {
      if (!instance) continue;
      await instance.assertNoCrash();
      await stack.stopWrangler(instance);
    }
    const countedUrl = await stack.startCounter();
    const [echoCounted, ragCounted] = await Promise.all([
      startService("echo", countedUrl),
      needsRag ? startService("rag", countedUrl) : undefined,
    ]);
    const countedInstances = { floor: floorInstance, echo: echoCounted, rag: ragCounted };
    const counter = /** @type {NonNullable<typeof stack.counter>} */ (stack.counter);
    for (const kind of counted) {
      const instance = /** @type {import("./bench-stack.mjs").WranglerInstance} */ (countedInstances[kind.instance]);
      await kind.prepare?.(ctx, instance.base);
      const load = (/** @type {number} */ maxRequests) =>
        runLoad({
          target: instance.base,
          connections: 1,
          seconds: 60,
          maxRequests,
          request: () => kind.request(ctx),
          expectStatus: kind.status,
          verify: kind.verify,
        });
      await load(3);
      await sleep(200);
      counter.reset();
      const fetchesBefore = issuer?.fetches() ?? 0;
      const run = await load(settings.countRequests);
      await sleep(200);
      const stats = counter.stats();
      const n = run.latencies.length;
      counts[kind.id] = {
        requests: n,
        roundTrips: stats.query / n,
        statements: stats.statements / n,
        connections: stats.connections / n,
        startupFlights: stats.startup / n,
        ...(kind.signedIn ? { keySetFetches: (issuer?.fetches() ?? 0) - fetchesBefore } : {}),
      };
    }
    for (const instance of [echoCounted, ragCounted]) await instance?.assertNoCrash();
  }
  for (const instance of [floorInstance, echoInstance, ragInstance]) await instance?.assertNoCrash();

  const report = {
    date: started.toISOString(),
    label: options.label,
    machine: { ...describeMachine(loadBefore), clockTicksPerSecond: CLOCK_TICKS },
    versions: { ...(await versions(echoInstance)), postgres: await stack.postgresVersion() },
    settings,
    kinds: kinds.map((kind) => {
      const result = results[kind.id];
      return {
        id: kind.id,
        title: kind.title,
        instance: kind.instance,
        ...result,
        workerCpuRatioToFloor: result.workerCpuMsPerRequest / results.floor.workerCpuMsPerRequest,
        ...(counts[kind.id] ? { database: counts[kind.id] } : {}),
      };
    }),
    floorAtTheEnd: floorAgain,
    streaming,
    throughput: Object.fromEntries(
      Object.entries(throughput).map(([id, result]) => [
        id,
        { ...result, ratioToFloor: result.requestsPerSecond / throughput.floor.requestsPerSecond },
      ]),
    ),
  };
  console.log(markdown(report));
  if (jsonFile) {
    await writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    progress(`figures written to ${jsonFile}`);
  }
}

/** @param {number | null | undefined} value @param {number} digits */
function fixed(value, digits) {
  return value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);
}

/** Issue 18's target: a signed-in page costs the Worker at most 1.2 times the anonymous one. */
const SIGNED_IN_TARGET = 1.2;

/**
 * The signed-in page next to the anonymous one.
 *
 * @param {any} anonymous
 * @param {any} signedIn
 */
function signedInLine(anonymous, signedIn) {
  const ratio = signedIn.workerCpuMsPerRequest / anonymous.workerCpuMsPerRequest;
  const counted = signedIn.database
    ? ` Round trips ${fixed(signedIn.database.roundTrips, 2)} and statements ${fixed(signedIn.database.statements, 2)} ` +
      `per request (anonymous: ${fixed(anonymous.database?.roundTrips, 2)} and ${fixed(anonymous.database?.statements, 2)}); ` +
      `key set fetched ${signedIn.database.keySetFetches} times in the ${signedIn.database.requests} counted requests.`
    : "";
  return (
    `Signed in: the page of 10 of a reader's own session, read with the reader's token (EdDSA, verified against the ` +
    `bench's key set on 127.0.0.1), costs ${fixed(signedIn.workerCpuMsPerRequest, 2)} ms/request of Worker CPU, ` +
    `${fixed(ratio, 2)}× the anonymous page's ${fixed(anonymous.workerCpuMsPerRequest, 2)} ms ` +
    `(issue 18's target: ≤ ${SIGNED_IN_TARGET}×, ${ratio <= SIGNED_IN_TARGET ? "met" : "not met"}); ` +
    `p50 ${fixed(signedIn.p50Ms, 1)} ms against ${fixed(anonymous.p50Ms, 1)} ms. The key set was fetched ` +
    `${signedIn.keySetFetches} times in its ${signedIn.requests} timed requests and their warm-up.${counted}`
  );
}

/** The section for docs/benchmarks.md. @param {any} report */
function markdown(report) {
  const day = report.date.slice(0, 10);
  const label = report.label ? `${report.label}, ` : "";
  const v = report.versions;
  const m = report.machine;
  const s = report.settings;
  const lines = [
    `## ${day}, ${label}local (${m.cores} cores, wrangler ${v.wrangler} / workerd ${v.workerd}, PostgreSQL ${v.postgres} embedded)`,
    "",
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}; Node ${v.node}, Hono ${v.hono}. Load average ` +
      `before the run: ${m.loadAverageBefore.join(", ")}. \`npm run bench\` with defaults: each kind on one keep-alive ` +
      `connection for ${s.seconds} s or ${s.requests} requests, whichever came first, after ${s.warmupSeconds} s of ` +
      `warm-up. Worker CPU: the workerd running the Worker; PostgreSQL CPU: the postmaster and its children; both from ` +
      `/proc/PID/stat (ticks of ${1000 / m.clockTicksPerSecond} ms), with the database reached through ` +
      `scripts/local-pool.mjs, as \`npm run dev\` reaches it. Round trips ` +
      `and statements: ${s.countRequests} more requests per kind through scripts/pg-roundtrips.mjs.`,
    "",
    "| request | n | Worker CPU ms/request | × floor | p50 ms | p95 ms | query round trips / request | statements / request | PostgreSQL CPU ms/request |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const kind of report.kinds) {
    const db = kind.database;
    const noDatabase = kind.instance === "floor" ? "—" : "0";
    lines.push(
      `| ${kind.title} | ${kind.requests} | ${fixed(kind.workerCpuMsPerRequest, 2)} | ${fixed(kind.workerCpuRatioToFloor, 1)} | ` +
        `${fixed(kind.p50Ms, 1)} | ${fixed(kind.p95Ms, 1)} | ${db ? fixed(db.roundTrips, 2) : noDatabase} | ` +
        `${db ? fixed(db.statements, 2) : noDatabase} | ${fixed(kind.postgresCpuMsPerRequest, 2)} |`,
    );
  }
  const anonymous = report.kinds.find((/** @type {any} */ kind) => kind.id === "history-10");
  const signedIn = report.kinds.find((/** @type {any} */ kind) => kind.id === "history-10-signed-in");
  if (anonymous && signedIn) lines.push("", signedInLine(anonymous, signedIn));
  const again = report.floorAtTheEnd;
  lines.push(
    "",
    `The floor measured again at the end of the run: ${fixed(again.workerCpuMsPerRequest, 2)} ms/request ` +
      `(p50 ${fixed(again.p50Ms, 1)} ms).`,
  );
  const extraConnections = report.kinds.filter(
    (/** @type {{ id: string, connectionsOpened: number }} */ kind) => kind.connectionsOpened > 1,
  );
  if (extraConnections.length > 0) {
    lines.push(
      "",
      `More than one connection was opened for: ${extraConnections.map((/** @type {{ id: string, connectionsOpened: number }} */ k) => `${k.id} (${k.connectionsOpened})`).join(", ")}.`,
    );
  }
  const streams = Object.entries(report.streaming ?? {});
  if (streams.length > 0) {
    lines.push(
      "",
      "Streamed answers as a reader sees them (3 answers each; the fake model stamps each piece with the time it sent it):",
      "",
      "| model speed | pieces | first words after the model sent them, ms | slowest piece, ms | longest gap between events, ms | events per answer |",
      "| --- | --- | --- | --- | --- | --- |",
    );
    for (const [id, r] of streams) {
      lines.push(
        `| ${id} (${r.delayMs} ms apart) | ${r.chunks} | ${Math.max(...r.firstWords)} | ${Math.max(...r.slowestPiece)} | ` +
          `${Math.max(...r.longestGap)} | ${Math.min(...r.events)}–${Math.max(...r.events)} |`,
      );
    }
  }
  const t = report.throughput;
  if (t.floor && t["history-10"]) {
    lines.push(
      "",
      `| ${s.connections} connections, ${s.throughputSeconds} s | n | requests/s | × floor | Worker CPU ms/request | p50 ms | p95 ms |`,
      "| --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const [id, title] of [
      ["floor", "floor: bare Hono Worker, GET /"],
      ["history-10", "GET messages, page of 10"],
      ["page-floor", "floor: bare Hono Worker reading the same page"],
    ]) {
      const r = t[id];
      if (!r) continue;
      lines.push(
        `| ${title} | ${r.requests} | ${fixed(r.requestsPerSecond, 0)} | ${fixed(r.ratioToFloor, 2)} | ` +
          `${fixed(r.workerCpuMsPerRequest, 2)} | ${fixed(r.p50Ms, 1)} | ${fixed(r.p95Ms, 1)} |`,
      );
    }
  }
  return lines.join("\n");
}

await runOnStack("bench", stack, main);
