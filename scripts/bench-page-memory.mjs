// `npm run bench:page-memory`: what the largest history page costs the Worker's memory under
// `wrangler dev`; docs/benchmarks.md ("the largest page's memory") has the figures.
//
// Starts, on free 127.0.0.1 ports, a throw-away PostgreSQL 17 and `wrangler dev` with the
// service. Seeds one session of 500 turns whose question and answer are each 8,000 emoji (32,000
// bytes, the longest a question may be), and reads GET /api/sessions/{uuid}/messages?limit=1000
// once on the freshly started Worker and then several times, watching the workerd that runs the Worker: its resident memory just before
// (VmRSS) and its peak during the request (VmHWM, reset before each request through
// /proc/PID/clear_refs; Linux, as the process's owner), the body's size, the time to its last
// byte and the Worker's CPU time (/proc/PID/stat). Then the same with `--concurrent` requests at
// once, and the whole session read by following next_cursor. Prints a Markdown section for
// docs/benchmarks.md and stops everything it started, also on Ctrl-C and on failure.
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { parseArgs } from "node:util";
import { BenchStack, describeMachine, runOnStack, SERVICE_CONFIG, sleep, versions } from "./bench-stack.mjs";

const { values: options } = parseArgs({
  options: {
    turns: { type: "string", default: "500" },
    emoji: { type: "string", default: "8000" },
    repeat: { type: "string", default: "3" },
    concurrent: { type: "string", default: "8" },
    help: { type: "boolean", default: false },
  },
});
if (options.help) {
  console.log(`npm run bench:page-memory [-- options]

  --turns N        turns of the session (default 500)
  --emoji N        emoji in each question and each answer (default 8000)
  --repeat N       reads of the page, after one warm-up (default 3)
  --concurrent N   reads at once in the concurrent run (default 8; 0: skip)`);
  process.exit(0);
}
const turns = Number(options.turns);
const emoji = Number(options.emoji);
const repeat = Number(options.repeat);
const concurrent = Number(options.concurrent);
if (![turns, emoji, repeat].every((n) => Number.isInteger(n) && n >= 1) || !(concurrent >= 0)) {
  console.error("bench:page-memory: --turns, --emoji and --repeat must be positive integers, --concurrent 0 or more");
  process.exit(2);
}

const stack = new BenchStack();
const progress = (/** @type {string} */ line) => console.error(`bench:page-memory: ${line}`);

/** @param {number} pid @param {string} field e.g. VmRSS, VmHWM @returns {number} KiB */
function status(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/**
 * A GET read to its last byte, on a new connection: status, bytes, ms, and the body's
 * next_cursor and message count when it is JSON (kept only when `parse`).
 *
 * @returns {Promise<{ status: number, bytes: number, ms: number, body: any }>}
 */
function download(/** @type {string} */ url, parse = false) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get(url, { agent: false }, (response) => {
        let bytes = 0;
        /** @type {Buffer[]} */
        const parts = [];
        response.on("data", (part) => {
          bytes += part.length;
          if (parse) parts.push(part);
        });
        response.on("error", reject);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            bytes,
            ms: performance.now() - started,
            body: parse ? JSON.parse(Buffer.concat(parts).toString("utf8")) : null,
          }),
        );
      })
      .on("error", reject);
  });
}

async function main() {
  const machine = describeMachine(os.loadavg());
  progress("starting PostgreSQL");
  const databaseUrl = await stack.startDatabase();
  const text = "😀".repeat(emoji);
  progress(`seeding a session of ${turns} turns, ${emoji} emoji a message`);
  const uuid = await stack.seedConversation({ messages: turns * 2, question: text, answer: text });
  await stack.analyzeDatabase();
  progress("starting wrangler dev");
  const service = await stack.startWrangler({
    name: "service",
    config: SERVICE_CONFIG,
    vars: { RATE_LIMITS: "off" },
    databaseUrl,
    readyPath: "/health",
  });
  const pid = /** @type {number} */ (service.userWorkerd?.pid);
  const url = `${service.base}/api/sessions/${uuid}/messages?limit=1000`;

  // The first read after the start, from the Worker's idle resident memory.
  await sleep(1000);
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
  const idleRss = status(pid, "VmRSS") / 1024;
  const cpuBeforeFirst = service.workerCpuMs();
  const warm = await download(url, true);
  const first = {
    rssBefore: idleRss,
    peak: status(pid, "VmHWM") / 1024 - idleRss,
    ms: warm.ms,
    cpu: service.workerCpuMs() - cpuBeforeFirst,
  };
  if (warm.status !== 200) throw new Error(`${url}: ${warm.status}`);
  const pageMessages = warm.body.messages.length;
  const paged = warm.body.next_cursor !== null;

  /** One measured read (or `count` at once): RSS before, its peak above that, and the reads' figures. */
  const measure = async (/** @type {number} */ count) => {
    await sleep(500);
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    const rssBefore = status(pid, "VmRSS") / 1024;
    const cpuBefore = service.workerCpuMs();
    const results = await Promise.all(Array.from({ length: count }, () => download(url)));
    const peak = status(pid, "VmHWM") / 1024 - rssBefore;
    const cpu = service.workerCpuMs() - cpuBefore;
    if (count === 1 && (results[0]?.status !== 200 || results[0].bytes !== warm.bytes)) {
      throw new Error(`${url}: ${results[0]?.status}`);
    }
    // Reads at once may meet the request's database deadline (503 database_timeout): they are counted, not fatal.
    /** @type {Record<number, number>} */
    const statuses = {};
    for (const result of results) statuses[result.status] = (statuses[result.status] ?? 0) + 1;
    const answered = Object.entries(statuses)
      .map(([code, times]) => `${times} × ${code}`)
      .join(", ");
    const bytes = results.reduce((sum, r) => sum + (r.status === 200 ? r.bytes : 0), 0);
    return { rssBefore, peak, cpu, ms: Math.max(...results.map((r) => r.ms)), answered, bytes };
  };

  const single = [];
  for (let i = 0; i < repeat; i++) single.push(await measure(1));
  progress("one read at a time: done");
  const together = concurrent > 0 ? await measure(concurrent) : null;
  if (together) progress(`${concurrent} at once: done`);

  // The whole session, page after page, from its start; every message exactly once, in order.
  let cursor = null;
  let pages = 0;
  let largest = 0;
  const seqs = [];
  await sleep(500);
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
  const rssBeforeAll = status(pid, "VmRSS") / 1024;
  const startedAll = performance.now();
  do {
    const page = await download(`${url}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, true);
    if (page.status !== 200) throw new Error(`page ${pages + 1}: ${page.status}`);
    seqs.push(...page.body.messages.map((/** @type {{ seq: number }} */ m) => m.seq));
    largest = Math.max(largest, page.bytes);
    cursor = page.body.next_cursor;
    pages++;
  } while (cursor);
  const msAll = performance.now() - startedAll;
  const peakAll = status(pid, "VmHWM") / 1024 - rssBeforeAll;
  if (seqs.length !== turns * 2 || seqs.some((seq, i) => seq !== i + 1)) {
    throw new Error(`following next_cursor gave ${seqs.length} messages, not 1..${turns * 2} in order`);
  }
  await service.assertNoCrash();

  const version = await versions(service);
  const fmt = (/** @type {number[]} */ values, digits = 1) =>
    values.length > 1
      ? `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`
      : values[0].toFixed(digits);
  const lines = [
    `### ${new Date().toISOString().slice(0, 10)}, the largest page, local (${machine.cores} cores, wrangler ${version.wrangler} / workerd ${version.workerd}, PostgreSQL ${await stack.postgresVersion()} embedded)`,
    "",
    `\`npm run bench:page-memory\`: one session of ${turns} turns, each question and each answer ${emoji.toLocaleString("en")} emoji (${Buffer.byteLength(text).toLocaleString("en")} bytes); \`GET /api/sessions/{uuid}/messages?limit=1000\` read once on the freshly started Worker, then ${repeat} times more, one at a time on a new connection, then ${concurrent} at once. RSS: the workerd running the Worker, its resident memory just before (VmRSS) and its peak during the reads (VmHWM, reset through /proc/PID/clear_refs) above that; V8 keeps the heap it grew, so the first read shows the rise best. Load average before the run: ${machine.loadAverageBefore.join(", ")}.`,
    "",
    "| read | messages in the page | body, bytes | workerd RSS before, MiB | RSS peak above it, MiB | time to last byte, ms | Worker CPU, ms |",
    "|---|---|---|---|---|---|---|",
    `| \`limit=1000\`, the first read after the start | ${pageMessages} | ${warm.bytes.toLocaleString("en")} | ${first.rssBefore.toFixed(1)} | ${first.peak.toFixed(1)} | ${first.ms.toFixed(0)} | ${first.cpu.toFixed(0)} |`,
    `| \`limit=1000\`, ${repeat} more, one at a time | ${pageMessages} | ${warm.bytes.toLocaleString("en")} | ${fmt(single.map((r) => r.rssBefore))} | ${fmt(single.map((r) => r.peak))} | ${fmt(
      single.map((r) => r.ms),
      0,
    )} | ${fmt(
      single.map((r) => r.cpu),
      0,
    )} |`,
  ];
  if (together) {
    lines.push(
      `| \`limit=1000\`, ${concurrent} at once (${together.answered}) | ${pageMessages} each | ${together.bytes.toLocaleString("en")} in all | ${together.rssBefore.toFixed(1)} | ${together.peak.toFixed(1)} | ${together.ms.toFixed(0)} (the slowest) | ${together.cpu.toFixed(0)} |`,
    );
  }
  lines.push(
    `| the whole session, following \`next_cursor\` | ${pages} page${pages === 1 ? "" : "s"}, ${seqs.length} messages | ${largest.toLocaleString("en")} (the largest page) | ${rssBeforeAll.toFixed(1)} | ${peakAll.toFixed(1)} | ${msAll.toFixed(0)} (all pages) | |`,
  );
  if (!paged) lines.push("", "The first page held the whole session: no byte limit cut it.");
  console.log(lines.join("\n"));
}

await runOnStack("bench:page-memory", stack, main);
