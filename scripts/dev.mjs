// `npm run dev [-- --fake-model] [-- <wrangler dev args>]`: starts the local embedded PostgreSQL
// (unless NEON_DATABASE_URL is set in the environment or .dev.vars), applies pending migrations,
// and runs `wrangler dev` with the Hyperdrive binding pointed at that database. With
// --fake-model, the answers come from a local fake model and Qdrant (scripts/fake-model.mjs).
// Once the Worker answers, prints what GET /health says of the settings it refused. On Ctrl-C,
// SIGTERM or wrangler exiting, stops wrangler first, then the fake model and PostgreSQL, and
// exits with wrangler's exit code.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { constants } from "node:os";
import path from "node:path";
import { startFakeModel } from "./fake-model.mjs";
import {
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  describeDatabaseUrl,
  errorMessage,
  findFreePort,
  localSetting,
  REPO_ROOT,
  startLocalDatabase,
} from "./local-database.mjs";
import { startLocalPool } from "./local-pool.mjs";
import { applyMigrations } from "./migrations.mjs";

const WRANGLER = path.join(REPO_ROOT, "node_modules", ".bin", "wrangler");
const KILL_AFTER_MS = 5_000;
const STARTUP_WAIT_MS = 15_000;
const WRANGLER_DEFAULT_PORT = 8787;
// wrangler builds the Worker before it listens; the first build of a cold checkout is the slowest.
const READY_WAIT_MS = 120_000;

const FAKE_MODEL_FLAG = "--fake-model";
const wranglerArgs = process.argv.slice(2).filter((arg) => arg !== FAKE_MODEL_FLAG);
const wantsFakeModel = wranglerArgs.length < process.argv.length - 2;

/** @type {{ url: string, stop: () => Promise<void> } | undefined} */
let db;
/** @type {{ port: number, close: () => Promise<void> } | undefined} */
let pool;
/** @type {{ stop: () => Promise<void> } | undefined} */
let fakeModel;
/** @type {import('node:child_process').ChildProcess | undefined} */
let wrangler;
/** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }> | undefined} */
let wranglerExited;
let shuttingDown = false;
/** @type {string | undefined} */
let remoteUrl;

for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
  process.on(signal, () => {
    if (shuttingDown) {
      // A second Ctrl-C: stop waiting for wrangler's own shutdown.
      signalWranglerGroup("SIGKILL");
      return;
    }
    // What a terminal's Ctrl-C would have sent wrangler had it run in the foreground.
    void shutdown(128 + constants.signals[signal], signal === "SIGINT" ? "SIGINT" : "SIGTERM");
  });
}

// postgres.js can also reject a promise nobody holds when the server vanishes mid-handshake.
process.on("unhandledRejection", (error) => {
  if (shuttingDown) return;
  console.error(`npm run dev: ${errorMessage(error, remoteUrl)}`);
  void shutdown(1);
});

const startup = (async () => {
  remoteUrl = localSetting("NEON_DATABASE_URL");
  let url;
  if (remoteUrl) {
    url = remoteUrl;
    console.error(`Using NEON_DATABASE_URL (${describeDatabaseUrl(url)}); no local database.`);
  } else {
    db = await startLocalDatabase({ dataDir: DEFAULT_DATA_DIR, port: DEFAULT_PORT });
    url = db.url;
    console.error(`Local PostgreSQL: ${describeDatabaseUrl(url)}`);
  }
  if (shuttingDown) return;

  const applied = await applyMigrations(url);
  console.error(applied === 0 ? "Migrations: up to date." : `Migrations: applied ${applied}.`);
  if (shuttingDown) return;

  // The Worker reaches the local database through a pool, as it reaches Neon through Hyperdrive's
  // in production; a remote database is reached directly (Hyperdrive is not there locally).
  let workerUrl = url;
  if (db) {
    const { hostname, port } = new URL(url);
    pool = await startLocalPool({ target: { host: hostname, port: Number(port) } });
    const pooled = new URL(url);
    pooled.port = String(pool.port);
    workerUrl = pooled.toString();
  }
  if (shuttingDown) return;

  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: workerUrl };
  env.WRANGLER_SEND_METRICS ??= "false";
  env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  env.WRANGLER_HIDE_BANNER ??= "true";

  // Its own process group, so that wrangler and everything it starts (workerd, esbuild)
  // can be signalled together and none of it outlives this script.
  // One developer's client is every request's client here, so production's per-address limits
  // would refuse a local test run after 20 questions. Off unless .dev.vars asks.
  const devArgs = [];
  if (!localSetting("RATE_LIMITS")) {
    devArgs.push("--var", "RATE_LIMITS:off");
    console.error("Rate limits: off (set RATE_LIMITS=on in .dev.vars to try them).");
  }
  if (wantsFakeModel) {
    const fake = await startFakeModel();
    fakeModel = fake;
    if (shuttingDown) return;
    // --var wins over .dev.vars, so none of its model settings is mixed in.
    for (const [name, value] of Object.entries(fake.vars)) devArgs.push("--var", `${name}:${value}`);
    console.error(`Fake model and Qdrant: ${fake.url} (every question gets the same answer, word by word).`);
  }
  // The port is chosen here, so that the Worker asked for its /health below is this one.
  const listen = listenAddress(wranglerArgs);
  if (listen.port === undefined) {
    listen.port = (await isFree(WRANGLER_DEFAULT_PORT)) ? WRANGLER_DEFAULT_PORT : await findFreePort();
    devArgs.push("--port", String(listen.port));
  }
  if (shuttingDown) return;
  wrangler = spawn(WRANGLER, ["dev", ...devArgs, ...wranglerArgs], {
    cwd: REPO_ROOT,
    env,
    stdio: "inherit",
    detached: true,
  });
  const child = wrangler;
  wranglerExited = new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => {
      console.error(`npm run dev: could not start wrangler: ${error.message}`);
      resolve({ code: 1, signal: null });
    });
  });
  void wranglerExited.then(({ code, signal }) => shutdown(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  void reportSettings(`${listen.protocol}://${listen.host}:${listen.port}`);
})();

/**
 * Where wrangler will listen, from the arguments given to it (wrangler's own defaults otherwise);
 * `port` is undefined when none was given.
 *
 * @param {string[]} args
 */
function listenAddress(args) {
  /** @param {string} name */
  const value = (name) => {
    const index = args.findLastIndex((arg) => arg === name || arg.startsWith(`${name}=`));
    if (index < 0) return undefined;
    return args[index].includes("=") ? args[index].slice(name.length + 1) : args[index + 1];
  };
  const ip = value("--ip");
  const port = value("--port");
  return {
    protocol: value("--local-protocol") === "https" ? "https" : "http",
    // An address that listens everywhere is asked on loopback.
    host: !ip || ip === "localhost" ? "localhost" : ip === "0.0.0.0" || ip === "::" ? "127.0.0.1" : ip,
    port: port === undefined ? undefined : Number(port),
  };
}

/** @param {number} port */
function isFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Asks the started Worker's GET /health once it answers and prints the settings it refused, in
 * the words of src/config.ts, the one place that reads them (each names the variable, never its
 * value). Says nothing more when all were accepted.
 *
 * @param {string} origin
 */
async function reportSettings(origin) {
  const deadline = Date.now() + READY_WAIT_MS;
  while (!shuttingDown && Date.now() < deadline) {
    /** @type {Response | undefined} */
    let response;
    try {
      response = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(5_000) });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    /** @type {Record<string, unknown>} */
    let health = {};
    try {
      const body = await response.json();
      if (typeof body === "object" && body !== null) health = { ...body };
    } catch {
      // not JSON: reported by its status below
    }
    if (shuttingDown) return;
    if (!response.ok) {
      console.error(`npm run dev: GET /health answered ${response.status} ${health.code ?? ""}`.trimEnd());
      return;
    }
    const problems = Object.entries(health).filter(([key]) => key.endsWith("_problem"));
    if (problems.length === 0) {
      console.error(`Settings: accepted (GET /health: answers by ${health.answer_provider}).`);
      return;
    }
    console.error("Settings refused (GET /health says degraded); fix them in .dev.vars:");
    for (const [key, problem] of problems) console.error(`  ${key.replace(/_problem$/, "")}: ${problem}`);
    return;
  }
}

startup.catch((error) => {
  if (!shuttingDown) console.error(`npm run dev: ${errorMessage(error, remoteUrl)}`);
  void shutdown(1);
});

/**
 * @param {number} fallbackCode exit code to use when wrangler never ran
 * @param {NodeJS.Signals} [signal] what to send wrangler's process group, if it still runs
 */
async function shutdown(fallbackCode, signal = "SIGTERM") {
  if (shuttingDown) return;
  shuttingDown = true;
  // A signal during startup: let the database finish starting so it can be stopped cleanly
  // (bounded: if startup is stuck, the exit hook in local-database.mjs still stops postgres).
  let timer;
  await Promise.race([
    startup.catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, STARTUP_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  const wranglerResult = await stopWrangler(signal);
  await fakeModel?.stop();
  await pool?.close();
  try {
    await db?.stop();
  } catch (error) {
    console.error(`npm run dev: could not stop PostgreSQL cleanly: ${errorMessage(error)}`);
  }
  let code = fallbackCode;
  if (wranglerResult) {
    const { code: exitCode, signal: exitSignal } = wranglerResult;
    code = exitCode ?? (exitSignal ? 128 + constants.signals[exitSignal] : fallbackCode);
  }
  process.exit(code);
}

/** @param {NodeJS.Signals} signal */
async function stopWrangler(signal) {
  if (!wrangler || !wranglerExited) return undefined;
  if (wrangler.exitCode === null && wrangler.signalCode === null) {
    signalWranglerGroup(signal);
    const timer = setTimeout(() => signalWranglerGroup("SIGKILL"), KILL_AFTER_MS);
    await wranglerExited;
    clearTimeout(timer);
  }
  // wrangler can exit before workerd has, and nothing in its group may outlive it. Miniflare
  // itself stops workerd with SIGKILL, so do the same to anything left.
  const deadline = Date.now() + KILL_AFTER_MS;
  while (groupAlive() && Date.now() < deadline) {
    signalWranglerGroup("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return wranglerExited;
}

/** @param {NodeJS.Signals} signal */
function signalWranglerGroup(signal) {
  if (!wrangler?.pid) return;
  try {
    process.kill(-wrangler.pid, signal);
  } catch {
    // the group is already gone
  }
}

function groupAlive() {
  if (!wrangler?.pid) return false;
  const group = wrangler.pid;
  try {
    // Exited members stay zombies until init reaps them, which some inits do only every
    // second or so; kill(-group, 0) would count those.
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue;
      }
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === group && state !== "Z") return true;
    }
    return false;
  } catch {
    // no /proc (macOS)
  }
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}
