// `npm run bench`: latency and PostgreSQL round trips per request of the running service.
//
// Starts a throw-away PostgreSQL 17, the round-trip counter of ../shared/tools/pg-roundtrips.mjs
// in front of it (PG_ROUNDTRIPS names another copy), and `wrangler dev` against the counter, all
// on free 127.0.0.1 ports; sends a fixed, bounded workload; prints a Markdown table for
// docs/benchmarks.md; stops everything. Answers come from the echo responder, so the figures
// are the service's own cost, without a model.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyMigrations, findFreePort, REPO_ROOT, startLocalDatabase } from "./local-database.mjs";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const counterScript = process.env.PG_ROUNDTRIPS ?? path.resolve(REPO_ROOT, "../shared/tools/pg-roundtrips.mjs");
if (!existsSync(counterScript)) {
  console.error(`bench: ${counterScript} not found (set PG_ROUNDTRIPS to pg-roundtrips.mjs)`);
  process.exit(1);
}

const children = [];
let database;
async function cleanUp() {
  for (const child of children)
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
    }
  await database?.stop();
}
process.on("SIGINT", () => void cleanUp().then(() => process.exit(130)));

function start(command, args, env = {}) {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.lastOutput = () => stderr;
  children.push(child);
  return child;
}

async function waitFor(url, child, seconds = 60) {
  for (let i = 0; i < seconds * 4; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer:\n${child.lastOutput()}`);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

try {
  database = await startLocalDatabase({
    dataDir: await mkdtemp(path.join(tmpdir(), "chat-history-bench-")),
    port: await findFreePort(),
    persistent: false,
    log: () => {},
  });
  await applyMigrations(database.url);
  const dbPort = Number(new URL(database.url).port);
  const [proxyPort, controlPort, httpPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const counter = start(process.execPath, [
    counterScript,
    "--listen",
    `127.0.0.1:${proxyPort}`,
    "--target",
    `127.0.0.1:${dbPort}`,
    "--control",
    `127.0.0.1:${controlPort}`,
  ]);
  await waitFor(`http://127.0.0.1:${controlPort}/stats`, counter);
  const wrangler = start(
    path.join(REPO_ROOT, "node_modules/.bin/wrangler"),
    ["dev", "--ip", "127.0.0.1", "--port", String(httpPort), "--var", "RATE_LIMITS:off"],
    {
      CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: database.url.replace(`:${dbPort}/`, `:${proxyPort}/`),
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_HIDE_BANNER: "true",
    },
  );
  const base = `http://127.0.0.1:${httpPort}`;
  await waitFor(`${base}/health`, wrangler, 90);

  const stats = async () => (await fetch(`http://127.0.0.1:${controlPort}/stats`)).json();
  const reset = () => fetch(`http://127.0.0.1:${controlPort}/reset`, { method: "POST" });
  const chat = (body) =>
    fetch(`${base}/api/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  const seed = await (await chat({ question: "seed" })).json();
  for (let i = 0; i < 100; i++) await chat({ question: `seed ${i}`, session_uuid: seed.session_uuid });

  const replayKey = crypto.randomUUID();
  const workloads = [
    ["GET /health", () => fetch(`${base}/health`)],
    ["POST /api/chat, new session", () => chat({ question: "What is the zero moment point?" })],
    [
      "POST /api/chat, existing session",
      () => chat({ question: "And how is it measured?", session_uuid: seed.session_uuid }),
    ],
    [
      "POST /api/chat, replay of an answered turn",
      () => chat({ question: "seed", session_uuid: seed.session_uuid, client_message_id: replayKey }),
    ],
    ["GET messages, 100 per page", () => fetch(`${base}/api/sessions/${seed.session_uuid}/messages?limit=100`)],
    ["GET /api/sessions/{uuid}", () => fetch(`${base}/api/sessions/${seed.session_uuid}`)],
  ];
  await chat({ question: "seed", session_uuid: seed.session_uuid, client_message_id: replayKey });

  const rows = [];
  for (const [name, run] of workloads) {
    for (let i = 0; i < 10; i++) await (await run()).arrayBuffer(); // warm-up
    await reset();
    const times = [];
    for (let i = 0; i < ROUNDS; i++) {
      const started = performance.now();
      const response = await run();
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
      times.push(performance.now() - started);
    }
    const s = await stats();
    times.sort((a, b) => a - b);
    rows.push(
      `| ${name} | ${ROUNDS} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} | ${(s.query / ROUNDS).toFixed(2)} | ${(s.statements / ROUNDS).toFixed(2)} | ${(s.connections / ROUNDS).toFixed(2)} |`,
    );
  }

  // 20 concurrent turns on one session, as the ordering test does, repeated.
  const concurrent = await (await chat({ question: "concurrency" })).json();
  await reset();
  const burstStarted = performance.now();
  for (let burst = 0; burst < 10; burst++) {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => chat({ question: `c${burst}-${i}`, session_uuid: concurrent.session_uuid })),
    );
    if (responses.some((r) => !r.ok)) throw new Error(`concurrent burst: ${responses.map((r) => r.status)}`);
    await Promise.all(responses.map((r) => r.arrayBuffer()));
  }
  const burstMs = performance.now() - burstStarted;

  console.log(
    `| request | n | p50 ms | p95 ms | query round trips / request | statements / request | new connections / request |`,
  );
  console.log(`|---|---|---|---|---|---|---|`);
  for (const row of rows) console.log(row);
  console.log(
    `\n10 bursts of 20 concurrent turns on one session: ${(200 / (burstMs / 1000)).toFixed(0)} turns/s, ${(burstMs / 10).toFixed(0)} ms per burst.`,
  );
} catch (error) {
  console.error(`bench: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
