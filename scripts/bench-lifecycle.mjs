// `npm run bench:lifecycle`: what an export and a retention purge cost the Worker under
// `wrangler dev`; docs/benchmarks.md ("Export and purge") explains it and has the figures.
//
// Starts, on free 127.0.0.1 ports, a throw-away PostgreSQL 17 and `wrangler dev --test-scheduled`
// with the service. Seeds sessions of 100, 1,000 and 10,000 messages whose texts and sources are
// the size of real RAG answers, and reads each one's export (JSON and Markdown) to its end,
// several times, watching the Worker: the time to the last byte, the CPU time of its workerd
// (/proc/PID/stat), that process's peak resident memory (VmHWM, reset before each export through
// /proc/PID/clear_refs; Linux, as root or the process's owner), and, in a run of its own, what
// the isolate holds live halfway through: a heap snapshot (which collects garbage first) taken
// through the inspector while the client has paused reading, next to one taken idle. Then seeds an expired backlog and triggers the
// Cron Trigger's handler (/__scheduled) twice, reading the purge's log line and the CPU time of
// each run. Prints a Markdown section for docs/benchmarks.md and stops everything it started,
// also on Ctrl-C and on failure.
import { readFileSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import { parseArgs } from "node:util";
import {
  BenchStack,
  describeMachine,
  InspectorSession,
  runOnStack,
  SERVICE_CONFIG,
  sleep,
  versions,
} from "./bench-stack.mjs";

const { values: options } = parseArgs({
  options: {
    repeat: { type: "string", default: "3" },
    sizes: { type: "string", default: "100,1000,10000" },
    backlog: { type: "string", default: "6000" },
    help: { type: "boolean", default: false },
  },
});
if (options.help) {
  console.log(`npm run bench:lifecycle [-- options]

  --sizes a,b,...   messages of the exported sessions (default 100,1000,10000)
  --repeat N        exports of each size and format, after one warm-up (default 3)
  --backlog N       expired sessions (4 messages each) for the purge (default 6000; 0: skip)`);
  process.exit(0);
}
const sizes = options.sizes.split(",").map(Number);
const repeat = Number(options.repeat);
const backlog = Number(options.backlog);
if (sizes.some((n) => !Number.isInteger(n) || n < 2 || n % 2) || !(repeat >= 1) || !(backlog >= 0)) {
  console.error(
    "bench:lifecycle: --sizes must be even integers of at least 2, --repeat at least 1, --backlog 0 or more",
  );
  process.exit(2);
}

const stack = new BenchStack();
const progress = (/** @type {string} */ line) => console.error(`bench:lifecycle: ${line}`);

/** @param {number} pid @param {string} field e.g. VmRSS, VmHWM @returns {number} KiB */
function status(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** A GET read to its last byte: status, bytes, ms. */
function download(/** @type {string} */ url) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get(url, { agent: false }, (response) => {
        let bytes = 0;
        response.on("data", (part) => {
          bytes += part.length;
        });
        response.on("error", reject);
        response.on("end", () => resolve({ status: response.statusCode, bytes, ms: performance.now() - started }));
      })
      .on("error", reject);
  });
}

/** The sizes of a real RAG answer: a question, an 800-character answer, three 300-character passages. */
const question = "How does a biped use the zero moment point to keep its balance while walking on uneven ground?";
const answer =
  `${"The zero moment point (ZMP) is the point on the ground where the net moment of the inertial and gravity forces has no horizontal component. ".repeat(6)}`.slice(
    0,
    800,
  );
const snippet =
  "A humanoid keeps its balance as long as the ZMP stays inside the support polygon, the convex hull of the feet's contact with the ground. "
    .repeat(3)
    .slice(0, 300);

/** Three passages of the book, as an answer of the sizes above cites them. */
const sources = [1, 2, 3].map((n) => ({
  title: `Chapter ${n}`,
  url: `https://book.example/ch${n}`,
  snippet,
  score: 0.8,
}));

async function main() {
  const machine = describeMachine(os.loadavg());
  progress("starting PostgreSQL");
  const databaseUrl = await stack.startDatabase();
  const uuids = new Map();
  for (const size of sizes)
    uuids.set(size, await stack.seedConversation({ messages: size, question, answer, sources }));
  await stack.analyzeDatabase();
  progress("starting wrangler dev");
  const service = await stack.startWrangler({
    name: "service",
    config: SERVICE_CONFIG,
    vars: { RATE_LIMITS: "off" },
    databaseUrl,
    readyPath: "/health",
    args: ["--test-scheduled"],
  });
  const pid = /** @type {number} */ (service.userWorkerd?.pid);

  const inspector = await InspectorSession.connect(service.inspectorPort);
  /**
   * What the isolate holds live, in MiB: the self sizes of a heap snapshot's nodes (V8 collects
   * garbage before it takes one).
   */
  const liveHeapMiB = async () => {
    let text = "";
    const onChunk = (/** @type {{ chunk: string }} */ params) => {
      text += params.chunk;
    };
    inspector.on("HeapProfiler.addHeapSnapshotChunk", onChunk);
    try {
      await inspector.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false }, 120_000);
    } finally {
      inspector.off("HeapProfiler.addHeapSnapshotChunk", onChunk);
    }
    const { snapshot, nodes } = JSON.parse(text);
    const width = snapshot.meta.node_fields.length;
    let bytes = 0;
    for (let i = snapshot.meta.node_fields.indexOf("self_size"); i < nodes.length; i += width) bytes += nodes[i];
    return bytes / 2 ** 20;
  };

  /** Reads an export, pausing halfway for `atHalf` to run before reading on. */
  const downloadPausingHalfway = (
    /** @type {string} */ url,
    /** @type {number} */ total,
    /** @type {() => Promise<void>} */ atHalf,
  ) =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent: false }, (response) => {
          let bytes = 0;
          let paused = false;
          response.on("data", (part) => {
            bytes += part.length;
            if (paused || bytes < total / 2) return;
            paused = true;
            response.pause();
            // Long enough for the Worker to stop at the flow control.
            void sleep(500)
              .then(atHalf)
              .then(() => response.resume(), reject);
          });
          response.on("error", reject);
          response.on("end", () => resolve(bytes));
        })
        .on("error", reject);
    });

  /** @type {{ size: number, format: string, bytes: number, baselineMiB: number, peakMiB: number[], idleHeapMiB: number, halfwayHeapMiB: number, ms: number[], cpuMs: number[] }[]} */
  const exports = [];
  for (const size of sizes) {
    for (const format of ["json", "markdown"]) {
      const url = `${service.base}/api/sessions/${uuids.get(size)}/export?format=${format}`;
      const warm = /** @type {any} */ (await download(url));
      if (warm.status !== 200) throw new Error(`${url}: ${warm.status}`);
      /** @type {(typeof exports)[number]} */
      const row = {
        size,
        format,
        bytes: warm.bytes,
        baselineMiB: 0,
        peakMiB: [],
        idleHeapMiB: 0,
        halfwayHeapMiB: 0,
        ms: [],
        cpuMs: [],
      };
      for (let i = 0; i < repeat; i++) {
        await sleep(200);
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
        row.baselineMiB = status(pid, "VmRSS") / 1024;
        const cpuBefore = service.workerCpuMs();
        const result = /** @type {any} */ (await download(url));
        row.cpuMs.push(service.workerCpuMs() - cpuBefore);
        row.peakMiB.push(status(pid, "VmHWM") / 1024 - row.baselineMiB);
        row.ms.push(result.ms);
        if (result.status !== 200 || result.bytes !== warm.bytes) throw new Error(`${url}: ${result.status}`);
      }
      // The live heap, in a run of its own: a snapshot stops the isolate for a while.
      row.idleHeapMiB = await liveHeapMiB();
      await downloadPausingHalfway(url, warm.bytes, async () => {
        row.halfwayHeapMiB = await liveHeapMiB();
      });
      exports.push(row);
      progress(`${size} messages, ${format}: done`);
    }
  }

  /** @type {Record<string, any>[]} */
  const purges = [];
  if (backlog > 0) {
    progress(`seeding ${backlog} expired sessions`);
    await stack.sql(async (sql) => {
      await sql`
        insert into chat_sessions (session_uuid, created_at, last_message_at, message_count)
        select gen_random_uuid(), now() - make_interval(days => 400), now() - make_interval(days => 366, secs => n), 4
        from generate_series(1, ${backlog}) n`;
      await sql`
        with questions as (
          insert into chat_messages (session_id, seq, sender, message, timestamp)
          select id, seq, 'user', ${question}, last_message_at from chat_sessions, (values (1), (3)) q(seq)
          where last_message_at < now() - make_interval(days => 365)
          returning id, session_id, seq, timestamp)
        insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id)
        select session_id, seq + 1, 'bot', ${answer}, timestamp, id from questions`;
    });
    await stack.analyzeDatabase();
    for (let run = 1; run <= 2; run++) {
      const logBefore = (await fs.readFile(service.logFile, "utf8")).length;
      const cpuBefore = service.workerCpuMs();
      const started = performance.now();
      const response = /** @type {any} */ (await download(`${service.base}/__scheduled?cron=17+*+*+*+*`));
      let line;
      for (let waited = 0; !line && waited < 30_000; waited += 100) {
        const text = (await fs.readFile(service.logFile, "utf8")).slice(logBefore);
        line = /\{"event":"retention_purge"[^\n]*\}/.exec(text)?.[0];
        if (!line) await sleep(100);
      }
      if (response.status !== 200 || !line) throw new Error(`purge run ${run}: ${response.status}, no log line`);
      purges.push({
        run,
        wallMs: performance.now() - started,
        cpuMs: service.workerCpuMs() - cpuBefore,
        ...JSON.parse(line),
      });
      await sleep(500);
    }
  }

  inspector.close();
  const version = await versions(service);
  const fmt = (/** @type {number[]} */ values, digits = 1) =>
    values.length > 1
      ? `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`
      : values[0].toFixed(digits);
  const lines = [
    `### ${new Date().toISOString().slice(0, 10)}, export and purge, local (${machine.cores} cores, wrangler ${version.wrangler} / workerd ${version.workerd}, PostgreSQL ${await stack.postgresVersion()} embedded)`,
    "",
    `\`npm run bench:lifecycle\`: each export read ${repeat} times after a warm-up, on a new connection each time; ranges are min–max over those runs. Live heap: what the Worker's isolate holds (a heap snapshot, taken after V8 collected its garbage), idle after the warm-up, then halfway through one more export, with the client paused there until the Worker stopped at the flow control. RSS: the peak resident memory of the workerd running the Worker (VmHWM, reset before each export) minus its resident memory just before. Load average before the run: ${machine.loadAverageBefore.join(", ")}.`,
    "",
    "| export | bytes | live heap idle, MiB | live heap halfway, MiB | workerd RSS before, MiB | RSS peak above it, MiB | time to last byte, ms | Worker CPU, ms |",
    "|---|---|---|---|---|---|---|---|",
    ...exports.map(
      (row) =>
        `| ${row.size.toLocaleString("en")} messages, ${row.format} | ${row.bytes.toLocaleString("en")} | ${row.idleHeapMiB.toFixed(2)} | ${row.halfwayHeapMiB.toFixed(2)} | ${row.baselineMiB.toFixed(1)} | ${fmt(row.peakMiB)} | ${fmt(row.ms, 0)} | ${fmt(row.cpuMs, 0)} |`,
    ),
  ];
  if (purges.length) {
    lines.push(
      "",
      `Purge of a backlog of ${backlog.toLocaleString("en")} expired sessions of 4 messages each (\`/__scheduled\`, the Cron Trigger's handler):`,
      "",
      "| run | sessions | messages | batches | backlog | ms (its log line) | Worker CPU, ms |",
      "|---|---|---|---|---|---|---|",
      ...purges.map(
        (p) =>
          `| ${p.run} | ${p.sessions} | ${p.messages} | ${p.batches} | ${p.backlog} | ${p.ms} | ${p.cpuMs.toFixed(0)} |`,
      ),
    );
  }
  console.log(lines.join("\n"));
}

await runOnStack("bench:lifecycle", stack, main);
