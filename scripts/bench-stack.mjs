// What `npm run bench` and `npm run bench:profile` run against, and how they read its CPU time.
//
// BenchStack starts, on free 127.0.0.1 ports: a throw-away PostgreSQL 17 (migrated), the test
// suite's fake model API and Qdrant, the round-trip counter, and `wrangler dev` instances (the
// service with a given configuration, or the floor Worker in bench/floor). stop() stops all of
// it, whatever state it is in; callers run it on success, failure and signals alike.
//
// CPU time comes from /proc/PID/stat (Linux only): utime+stime, in clock ticks.

import { execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { build } from "esbuild";
import { findFreePort, REPO_ROOT, startLocalDatabase } from "./local-database.mjs";
import { startLocalPool } from "./local-pool.mjs";
import { applyMigrations } from "./migrations.mjs";
import { startRoundTripCounter } from "./pg-roundtrips.mjs";

export const SERVICE_CONFIG = path.join(REPO_ROOT, "wrangler.toml");
export const FLOOR_CONFIG = path.join(REPO_ROOT, "bench", "floor", "wrangler.toml");
const WRANGLER = path.join(REPO_ROOT, "node_modules", ".bin", "wrangler");
const READY_TIMEOUT_MS = 90_000;
const KILL_AFTER_MS = 5_000;

/** Clock ticks per second of /proc/PID/stat times (USER_HZ). */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * The fields of /proc/PID/stat after the command name, numbered as in proc(5).
 *
 * @param {number} pid
 * @returns {{ state: string, ppid: number, utime: number, stime: number, cutime: number, cstime: number, starttime: number } | null}
 */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // Field 3 onwards; the command name (field 2) may itself hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const field = (/** @type {number} */ number) => Number(fields[number - 3]);
  return {
    state: fields[0] ?? "?",
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
    starttime: field(22),
  };
}

/** Every live process: pid → parent pid. */
export function processTable() {
  /** @type {Map<number, number>} */
  const parents = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.state !== "Z") parents.set(Number(entry), stat.ppid);
  }
  return parents;
}

/** @param {number} pid @returns {string[]} */
function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** @param {number} pid @param {number} ancestor @param {Map<number, number>} parents */
function descendsFrom(pid, ancestor, parents) {
  for (let current = pid, hops = 0; current > 1 && hops < 64; hops++) {
    if (current === ancestor) return true;
    current = parents.get(current) ?? 0;
  }
  return false;
}

/**
 * CPU time of one process so far, in milliseconds: utime + stime.
 *
 * @param {number} pid
 */
export function processCpuMs(pid) {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return ((stat.utime + stat.stime) * 1000) / CLOCK_TICKS;
}

/**
 * CPU time of PostgreSQL so far, in milliseconds: the postmaster's own time, the time of every
 * child it has reaped (cutime + cstime: the backends of connections that closed), and the time
 * of its live children (open backends, checkpointer, WAL writer...). Read until no child was
 * reaped in between, so a backend is neither missed nor counted twice.
 *
 * @param {number} postmasterPid
 */
export function postgresCpuMs(postmasterPid) {
  for (let attempt = 0; ; attempt++) {
    const before = readStat(postmasterPid);
    if (!before) throw new Error(`PostgreSQL (pid ${postmasterPid}) is gone`);
    let ticks = 0;
    for (const [pid, ppid] of processTable()) {
      if (ppid !== postmasterPid) continue;
      const child = readStat(pid);
      if (child) ticks += child.utime + child.stime;
    }
    const after = readStat(postmasterPid);
    if (!after) throw new Error(`PostgreSQL (pid ${postmasterPid}) is gone`);
    if (after.cutime + after.cstime === before.cutime + before.cstime || attempt >= 5) {
      ticks += after.utime + after.stime + after.cutime + after.cstime;
      return (ticks * 1000) / CLOCK_TICKS;
    }
  }
}

/**
 * CPU time so far of a process and its live descendants, in milliseconds, leaving out `except`.
 *
 * @param {number} rootPid
 * @param {number[]} except
 */
export function treeCpuMs(rootPid, except = []) {
  const parents = processTable();
  let ticks = 0;
  for (const pid of parents.keys()) {
    if (except.includes(pid) || !descendsFrom(pid, rootPid, parents)) continue;
    const stat = readStat(pid);
    if (stat) ticks += stat.utime + stat.stime;
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/**
 * A running `wrangler dev`. Under wrangler dev the Worker runs in its own workerd process, the one
 * started with --inspector-addr; the other workerd is wrangler's entry proxy.
 */
export class WranglerInstance {
  /**
   * @param {{ name: string, port: number, inspectorPort: number, wranglerPid: number, logFile: string }} options
   */
  constructor({ name, port, inspectorPort, wranglerPid, logFile }) {
    this.name = name;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.inspectorPort = inspectorPort;
    this.wranglerPid = wranglerPid;
    this.logFile = logFile;
    /** @type {{ pid: number, starttime: number, binary: string } | undefined} */
    this.userWorkerd = undefined;
  }

  /** Finds the Worker's workerd among wrangler's descendants; wrangler starts it after the proxy. */
  async findUserWorkerd(timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parents = processTable();
      for (const pid of parents.keys()) {
        const args = commandLine(pid);
        if (!args[0]?.endsWith("workerd") || !args.some((arg) => arg.startsWith("--inspector-addr"))) continue;
        if (!descendsFrom(pid, this.wranglerPid, parents)) continue;
        const stat = readStat(pid);
        if (!stat) continue;
        this.userWorkerd = { pid, starttime: stat.starttime, binary: args[0] };
        return this.userWorkerd;
      }
      if (Date.now() > deadline) throw new Error(`${this.name}: no workerd with --inspector-addr under wrangler`);
      await sleep(100);
    }
  }

  /** The Worker's workerd's CPU time so far, in ms; fails if workerd crashed and was restarted. */
  workerCpuMs() {
    const workerd = this.userWorkerd;
    if (!workerd) throw new Error(`${this.name}: the Worker's workerd was not found`);
    const stat = readStat(workerd.pid);
    if (!stat || stat.starttime !== workerd.starttime || stat.state === "Z") {
      throw new Error(`${this.name}: the Worker's workerd (pid ${workerd.pid}) exited or was restarted`);
    }
    return ((stat.utime + stat.stime) * 1000) / CLOCK_TICKS;
  }

  /** The rest of wrangler dev (its Node processes, the entry workerd, esbuild), in ms. */
  restCpuMs() {
    return treeCpuMs(this.wranglerPid, this.userWorkerd ? [this.userWorkerd.pid] : []);
  }

  /** The last lines wrangler printed. */
  async lastOutput(characters = 3000) {
    const text = await fs.readFile(this.logFile, "utf8").catch(() => "");
    return text.slice(-characters);
  }

  /** Fails if the Worker's runtime crashed since the start (wrangler restarts it, new pid). */
  async assertNoCrash() {
    const text = await fs.readFile(this.logFile, "utf8").catch(() => "");
    if (/crashed unexpectedly|Segmentation fault/.test(text)) {
      throw new Error(`${this.name}: workerd crashed during the run:\n${text.slice(-2000)}`);
    }
  }
}

export class BenchStack {
  constructor() {
    /** @type {{ name: string, child: import("node:child_process").ChildProcess, exited: Promise<void> }[]} */
    this.processes = [];
    /** @type {(() => Promise<void>)[]} run first by stop(), newest first */
    this.beforeStop = [];
    /** @type {string | undefined} */
    this.tmp = undefined;
    /** @type {Awaited<ReturnType<typeof startLocalDatabase>> | undefined} */
    this.database = undefined;
    /** @type {number | undefined} */
    this.postmasterPid = undefined;
    /** @type {Awaited<ReturnType<typeof startRoundTripCounter>> | undefined} */
    this.counter = undefined;
    /** @type {{ port: number, close: () => Promise<void> } | undefined} */
    this.pool = undefined;
    /** @type {Promise<void> | undefined} */
    this.stopping = undefined;
  }

  async tempDir() {
    this.tmp ??= await fs.mkdtemp(path.join(tmpdir(), "chat-history-bench-"));
    return this.tmp;
  }

  /**
   * A throw-away, migrated PostgreSQL 17 without autovacuum: autovacuum waking up in the middle of
   * a kind would be counted as that kind's CPU time. Call analyzeDatabase() after seeding, so that
   * plans see the tables as they are. Remembers the postmaster's pid.
   *
   * @param {{ maxConnections?: number }} [options] the server's max_connections (default 500)
   */
  async startDatabase({ maxConnections } = {}) {
    const dataDir = path.join(await this.tempDir(), "postgres");
    this.database = await startLocalDatabase({
      dataDir,
      port: await findFreePort(),
      persistent: false,
      maxConnections,
      log: () => {},
    });
    await applyMigrations(this.database.url);
    const pidFile = await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8");
    this.postmasterPid = Number(pidFile.split("\n")[0]);
    await this.sql(async (sql) => {
      await sql`alter system set autovacuum = off`;
      await sql`select pg_reload_conf()`;
    });
    return this.database.url;
  }

  /**
   * Writes a conversation of `messages` messages straight into the database, questions and
   * answers in turn, each answer linked to its question, the last message `ageDays` days ago and
   * one second between messages; every answer has `sources`. Returns the session's UUID.
   *
   * @param {{ messages: number, question: string, answer: string, sources?: unknown[], ageDays?: number }} conversation
   * @returns {Promise<string>}
   */
  seedConversation({ messages, question, answer, sources = [], ageDays = 0 }) {
    return this.sql(async (sql) => {
      const uuid = crypto.randomUUID();
      const [session] = await sql`
        insert into chat_sessions (session_uuid, created_at, last_message_at, message_count)
        values (${uuid}, now() - make_interval(days => ${ageDays}, secs => ${messages}),
          now() - make_interval(days => ${ageDays}), ${messages})
        returning id`;
      await sql`
        with questions as (
          insert into chat_messages (session_id, seq, sender, message, timestamp)
          select ${session.id}, seq, 'user', ${question}, now() - make_interval(days => ${ageDays}, secs => ${messages} - seq)
          from generate_series(1, ${messages}, 2) seq
          returning id, seq)
        insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, sources)
        select ${session.id}, seq + 1, 'bot', ${answer},
          now() - make_interval(days => ${ageDays}, secs => ${messages} - seq - 1), id, ${sql.json(sources)}
        from questions`;
      return uuid;
    });
  }

  /** VACUUM ANALYZE, e.g. after seeding. */
  analyzeDatabase() {
    return this.sql(async (sql) => {
      // The database's statement_timeout (4 s, drizzle/0001) is for the service: on a million
      // rows of a busy machine VACUUM takes longer.
      await sql`set statement_timeout = 0`;
      await sql`vacuum analyze`;
    });
  }

  /** The server's version, e.g. "17.10". */
  postgresVersion() {
    return this.sql(async (sql) => String((await sql`show server_version`)[0]?.server_version));
  }

  /**
   * Runs `use` with a one-connection postgres.js client (loaded with require(), as
   * local-database.mjs explains) on the database, then ends the client.
   *
   * @template T
   * @param {(sql: any) => Promise<T>} use
   * @returns {Promise<T>}
   */
  async sql(use) {
    if (!this.database) throw new Error("start the database first");
    const postgres = createRequire(import.meta.url)("postgres");
    const sql = postgres(this.database.url, { max: 1, onnotice: () => {} });
    try {
      return await use(sql);
    } finally {
      await sql.end({ timeout: 2 });
    }
  }

  /**
   * The local pool in front of the database, standing in for Hyperdrive's as `npm run dev` does
   * (scripts/local-pool.mjs); returns a connection string through it.
   */
  async startPool() {
    if (!this.database) throw new Error("start the database first");
    const url = new URL(this.database.url);
    this.pool = await startLocalPool({ target: { host: url.hostname, port: Number(url.port) } });
    url.port = String(this.pool.port);
    return url.toString();
  }

  /**
   * The round-trip counter in front of the pool (or of the database, without one), so that it
   * sees the Worker's connections; returns a connection string through it.
   */
  async startCounter() {
    if (!this.database) throw new Error("start the database first");
    const url = new URL(this.database.url);
    this.counter = await startRoundTripCounter({ targetPort: this.pool?.port ?? Number(url.port) });
    url.port = String(this.counter.port);
    return url.toString();
  }

  /** The fake model API and Qdrant (test/fakes/upstream-server.ts) in a process of its own. */
  async startFakeUpstream() {
    const child = this.spawn(
      "fake upstream",
      process.execPath,
      ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", "scripts/fake-upstream.mjs"],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    const lines = createInterface({ input: /** @type {import("node:stream").Readable} */ (child.stdout) });
    const url = await Promise.race([
      new Promise((resolve) => lines.once("line", (line) => resolve(JSON.parse(line).url))),
      new Promise((_, reject) => child.once("exit", () => reject(new Error("the fake upstream exited")))),
    ]);
    lines.close();
    return /** @type {string} */ (url);
  }

  /**
   * Starts `wrangler dev` and waits until `readyPath` answers 200. The Worker's settings come from
   * an env file of their own, so a developer's .dev.vars or .env has no say in the figures.
   *
   * @param {{ name: string, config: string, vars?: Record<string, string>, databaseUrl?: string, readyPath?: string, args?: string[] }} options
   */
  async startWrangler({ name, config, vars = {}, databaseUrl, readyPath = "/", args: extraArgs = [] }) {
    const tmp = await this.tempDir();
    const slug = name.replace(/[^a-z0-9]+/gi, "-");
    const envFile = path.join(tmp, `${slug}.env`);
    await fs.writeFile(
      envFile,
      Object.entries(vars)
        .map(([key, value]) => {
          if (/[\r\n"]/.test(value)) throw new Error(`${key}: a bench setting cannot hold quotes or newlines`);
          return `${key}="${value}"\n`;
        })
        .join(""),
    );
    const [port, inspectorPort] = [await findFreePort(), await findFreePort()];
    const logFile = path.join(tmp, `${slug}.log`);
    const log = openSync(logFile, "w");
    const env = {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_HIDE_BANNER: "true",
      ...(databaseUrl ? { CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: databaseUrl } : {}),
    };
    const args = ["dev", "--config", config, "--env-file", envFile, "--persist-to", path.join(tmp, `${slug}-state`)];
    args.push("--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort), ...extraArgs);
    const child = this.spawn(name, WRANGLER, args, { env, stdio: ["ignore", log, log] });
    closeSync(log);
    const instance = new WranglerInstance({
      name,
      port,
      inspectorPort,
      wranglerPid: /** @type {number} */ (child.pid),
      logFile,
    });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        const response = await fetch(`${instance.base}${readyPath}`);
        await response.arrayBuffer();
        if (response.ok) break;
      } catch {}
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        throw new Error(`${name}: ${readyPath} did not answer 200:\n${await instance.lastOutput()}`);
      }
      await sleep(250);
    }
    await instance.findUserWorkerd();
    return instance;
  }

  /**
   * @param {string} name
   * @param {string} command
   * @param {string[]} args
   * @param {import("node:child_process").SpawnOptions} options
   */
  spawn(name, command, args, options) {
    // Its own process group, so the whole tree (wrangler, its workerd and esbuild) can be stopped
    // together, and a terminal's Ctrl-C reaches only us: we stop things in order.
    const child = spawn(command, args, { cwd: REPO_ROOT, detached: true, ...options });
    const exited = new Promise((resolve) => {
      child.once("exit", () => resolve(undefined));
      child.once("error", () => resolve(undefined));
    });
    this.processes.push({ name, child, exited });
    return child;
  }

  /** Stops a process started by spawn() and everything in its process group. */
  async stopProcess(/** @type {{ child: import("node:child_process").ChildProcess, exited: Promise<void> }} */ entry) {
    const group = entry.child.pid;
    if (!group) return;
    signalGroup(group, "SIGTERM");
    const deadline = Date.now() + KILL_AFTER_MS;
    while (groupAlive(group)) {
      if (Date.now() > deadline) signalGroup(group, "SIGKILL");
      await sleep(50);
    }
    await Promise.race([entry.exited, sleep(1000)]);
    this.processes = this.processes.filter((p) => p !== entry);
  }

  /** @param {WranglerInstance} instance */
  async stopWrangler(instance) {
    const entry = this.processes.find((p) => p.child.pid === instance.wranglerPid);
    if (entry) await this.stopProcess(entry);
  }

  /** Stops everything, once; safe to call from a signal handler while a start is in progress. */
  stop() {
    this.stopping ??= (async () => {
      for (const hook of this.beforeStop.reverse()) await hook().catch(() => {});
      await Promise.all(this.processes.map((entry) => this.stopProcess(entry)));
      await this.counter?.close();
      await this.pool?.close();
      await this.database?.stop().catch(() => {});
      if (this.tmp) await fs.rm(this.tmp, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** Last resort on process exit (an uncaught error): SIGKILL whatever is still running. */
  killAllNow() {
    for (const { child } of this.processes) if (child.pid) signalGroup(child.pid, "SIGKILL");
  }
}

/**
 * Statements and query round trips per request of each kind: `instance` is stopped and the
 * service started again behind the round-trip counter (`startService`, given the counter's
 * connection string); each kind is sent once to warm up, then `requests` times counted. Returns
 * the counted instance and the figures by kind id.
 *
 * @template {{ id: string }} Kind
 * @param {{
 *   stack: BenchStack,
 *   instance: WranglerInstance,
 *   startService: (databaseUrl: string) => Promise<WranglerInstance>,
 *   kinds: Kind[],
 *   load: (base: string, kind: Kind, requests: number) => Promise<unknown>,
 *   requests: number,
 * }} options
 */
export async function countRoundTrips({ stack, instance, startService, kinds, load, requests }) {
  await stack.stopWrangler(instance);
  const counted = await startService(await stack.startCounter());
  const counter = /** @type {NonNullable<BenchStack["counter"]>} */ (stack.counter);
  /** @type {Record<string, { statements: number, roundTrips: number }>} */
  const perKind = {};
  for (const kind of kinds) {
    await load(counted.base, kind, 1);
    await sleep(200);
    counter.reset();
    await load(counted.base, kind, requests);
    await sleep(200);
    const stats = counter.stats();
    perKind[kind.id] = { statements: stats.statements / requests, roundTrips: stats.query / requests };
  }
  await counted.assertNoCrash();
  return { counted, perKind };
}

/**
 * The service's own modules (statements, query schemas, cursors), bundled for Node from src/ and
 * imported, so that a script runs and EXPLAINs exactly what the routes run. `source` is the
 * export statements, relative to the repository's root; `name` names the temporary bundle.
 *
 * @param {string} name
 * @param {string} source
 * @returns {Promise<any>}
 */
export async function loadServiceModules(name, source) {
  const bundle = path.join(REPO_ROOT, ".data", `${name}.mjs`);
  await fs.mkdir(path.dirname(bundle), { recursive: true });
  await build({
    stdin: { contents: source, resolveDir: REPO_ROOT, loader: "ts" },
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    outfile: bundle,
    logLevel: "error",
  });
  const module = await import(bundle);
  await fs.rm(bundle);
  return module;
}

/**
 * Runs a script's `main` on `stack` and stops everything the stack started however the run
 * ends: normally, on failure (its message printed, exit code 1), on SIGINT/SIGTERM/SIGHUP (a
 * second signal kills at once), or at exit. `atExit` runs first in the last two cases.
 *
 * @param {string} name the script, to prefix its messages
 * @param {BenchStack} stack
 * @param {() => Promise<void>} main
 * @param {() => void} [atExit]
 */
export async function runOnStack(name, stack, main, atExit = () => {}) {
  let interrupted = false;
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
    process.on(signal, () => {
      if (interrupted) {
        atExit();
        stack.killAllNow();
        process.exit(130);
      }
      interrupted = true;
      console.error(`${name}: ${signal}, stopping everything...`);
      void stack.stop().finally(() => process.exit(130));
    });
  }
  process.on("exit", () => {
    atExit();
    stack.killAllNow();
  });
  try {
    await main();
  } catch (error) {
    if (!interrupted) {
      console.error(`${name}: ${error instanceof Error ? error.message : error}`);
      process.exitCode = 1;
    }
  } finally {
    if (!interrupted) await stack.stop();
  }
}

/**
 * The machine a run's figures come from.
 *
 * @param {number[]} loadBefore os.loadavg() before the run
 */
export function describeMachine(loadBefore) {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    loadAverageBefore: loadBefore.map((value) => Number(value.toFixed(2))),
  };
}

/** @param {number} group @param {NodeJS.Signals} signal */
function signalGroup(group, signal) {
  try {
    process.kill(-group, signal);
  } catch {}
}

// Exited members stay zombies until reaped, and some inits reap slowly; kill(-group, 0) would
// count those, so /proc is read instead.
/** @param {number} group */
function groupAlive(group) {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let text;
    try {
      text = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const [state, , pgrp] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === group && state !== "Z") return true;
  }
  return false;
}

/**
 * A numeric command-line option of a bench script, checked: out of range (or not an integer when
 * `integer`), the script says so under its name and exits 2.
 *
 * @param {string} script the name the script reports under, e.g. "bench:admin"
 * @param {Record<string, unknown>} options what parseArgs read
 * @param {string} name the option, without its dashes
 * @param {{ min: 0 | 1, max: number, integer: boolean }} range
 */
export function numberOption(script, options, name, { min, max, integer }) {
  const value = Number(options[name]);
  const valid = integer ? Number.isInteger(value) : Number.isFinite(value);
  if (!valid || value < min || value > max) {
    console.error(`${script}: --${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
    process.exit(2);
  }
  return value;
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The compatibility date and flags of a wrangler.toml (the top-level keys only).
 *
 * @param {string} file
 */
export async function compatibility(file) {
  const text = await fs.readFile(file, "utf8");
  const top = text.split(/^\[/m)[0] ?? "";
  return {
    date: /^compatibility_date\s*=\s*"([^"]*)"/m.exec(top)?.[1],
    flags: /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(top)?.[1]?.replace(/\s+/g, ""),
  };
}

/** Versions of what the figures depend on. @param {WranglerInstance} instance */
export async function versions(instance) {
  const packageVersion = async (/** @type {string} */ file) =>
    JSON.parse(await fs.readFile(file, "utf8")).version ?? "unknown";
  const workerdPackage = instance.userWorkerd
    ? path.join(path.dirname(path.dirname(instance.userWorkerd.binary)), "package.json")
    : undefined;
  return {
    node: process.versions.node,
    wrangler: await packageVersion(path.join(REPO_ROOT, "node_modules", "wrangler", "package.json")),
    workerd: workerdPackage ? await packageVersion(workerdPackage).catch(() => "unknown") : "unknown",
    hono: await packageVersion(path.join(REPO_ROOT, "node_modules", "hono", "package.json")),
  };
}

/**
 * A Chrome DevTools Protocol session with the Worker, through wrangler dev's inspector proxy.
 * workerd answers some commands (Profiler.enable, .start, .setSamplingInterval) by echoing the
 * command without a `result`, so any message carrying a command's id is its answer.
 */
export class InspectorSession {
  /** @param {WebSocket} socket */
  constructor(socket) {
    this.socket = socket;
    this.nextId = 1;
    /** @type {Map<number, { resolve: (message: any) => void, reject: (error: Error) => void }>} */
    this.pending = new Map();
    /** @type {Map<string, ((params: any) => void)[]>} */
    this.listeners = new Map();
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      const waiting = message.id !== undefined ? this.pending.get(message.id) : undefined;
      if (waiting) {
        this.pending.delete(message.id);
        if (message.error) waiting.reject(new Error(`${message.error.message} (${message.error.code})`));
        else waiting.resolve(message.result ?? {});
      } else if (message.method) {
        for (const listener of this.listeners.get(message.method) ?? []) listener(message.params);
      }
    });
    socket.addEventListener("close", () => {
      for (const { reject } of this.pending.values()) reject(new Error("the inspector connection closed"));
      this.pending.clear();
    });
  }

  /** @param {number} inspectorPort */
  static async connect(inspectorPort) {
    const targets = /** @type {{ webSocketDebuggerUrl?: string }[]} */ (
      await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()
    );
    const url = targets[0]?.webSocketDebuggerUrl;
    if (!url) throw new Error(`no inspector target at http://127.0.0.1:${inspectorPort}/json`);
    // wrangler's proxy refuses a client that sends a User-Agent but no Origin; Node's WebSocket
    // (undici) sends the first and takes extra headers as this non-standard second argument.
    const socket = new WebSocket(url, /** @type {any} */ ({ headers: { Origin: "http://127.0.0.1" } }));
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return new InspectorSession(socket);
  }

  /** @param {string} method @param {object} [params] @param {number} [timeoutMs] @returns {Promise<any>} */
  send(method, params = {}, timeoutMs = 30_000) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** @param {string} method @param {(params: any) => void} listener */
  on(method, listener) {
    this.listeners.set(method, [...(this.listeners.get(method) ?? []), listener]);
  }

  /** @param {string} method @param {(params: any) => void} listener */
  off(method, listener) {
    this.listeners.set(
      method,
      (this.listeners.get(method) ?? []).filter((known) => known !== listener),
    );
  }

  close() {
    this.socket.close();
  }
}
