// `npm run dev [-- <wrangler dev args>]`: starts the local embedded PostgreSQL (unless
// NEON_DATABASE_URL is set in the environment or .dev.vars), applies pending migrations, and
// runs `wrangler dev` with the Hyperdrive binding pointed at that database. On Ctrl-C,
// SIGTERM or wrangler exiting, stops wrangler first, then PostgreSQL, and exits with
// wrangler's exit code.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import path from "node:path";
import {
  applyMigrations,
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  describeDatabaseUrl,
  errorMessage,
  localSetting,
  REPO_ROOT,
  startLocalDatabase,
} from "./local-database.mjs";
import { startLocalPool } from "./local-pool.mjs";

const WRANGLER = path.join(REPO_ROOT, "node_modules", ".bin", "wrangler");
const KILL_AFTER_MS = 5_000;
const STARTUP_WAIT_MS = 15_000;

/** @type {{ url: string, stop: () => Promise<void> } | undefined} */
let db;
/** @type {{ close: () => Promise<void> } | undefined} */
let pool;
/** @type {import('node:child_process').ChildProcess | undefined} */
let wrangler;
/** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }> | undefined} */
let wranglerExited;
let shuttingDown = false;
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
  wrangler = spawn(WRANGLER, ["dev", ...devArgs, ...process.argv.slice(2)], {
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
})();

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
