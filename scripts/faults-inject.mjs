// The faults `npm run test:faults` injects into the running PostgreSQL, each one put on, held and
// lifted here. Each returns its window on the run's clock: `startedAt` (the fault is on) and
// `liftedAt` (it is over), and a line of details for the report.
//
// The lock holder and the idle connections are postgres.js clients in this process, loaded with
// require() as scripts/local-database.mjs explains. releaseEverything() ends whatever a fault
// still holds and wakes a frozen cluster, for a run that stops halfway (Ctrl-C, a failure).
import { createRequire } from "node:module";
import { processTable, sleep } from "./bench-stack.mjs";
import { now } from "./faults-load.mjs";

const postgres = createRequire(import.meta.url)("postgres");

/** @typedef {{ startedAt: number, liftedAt: number, details: string }} FaultWindow */

/** @type {Set<any>} postgres.js clients a fault holds open */
const heldClients = new Set();
/** @type {Set<number>} postmasters that may be frozen */
const frozenPostmasters = new Set();

/**
 * Stop and start again: a fast shutdown (SIGINT to the postmaster, which ends every backend), then
 * `downMs` with nothing listening, then a start on the same data directory and port. Lifted when
 * the new postmaster is ready to accept connections.
 *
 * @param {{ stopServer: () => Promise<void>, startServer: () => Promise<void> }} database
 * @param {number} downMs
 * @returns {Promise<FaultWindow>}
 */
export async function restartDatabase(database, downMs) {
  const startedAt = now();
  await database.stopServer();
  const stoppedAt = now();
  await sleep(downMs);
  const starting = now();
  await database.startServer();
  const liftedAt = now();
  return {
    startedAt,
    liftedAt,
    details:
      `fast shutdown in ${ms(stoppedAt - startedAt)}, nothing listening for ${ms(starting - stoppedAt)}, ` +
      `ready ${ms(liftedAt - starting)} after the start`,
  };
}

/**
 * SIGSTOP to the postmaster and every process of the cluster for `holdMs`, then SIGCONT. The kernel
 * still completes TCP handshakes into the listen backlog, so a client connects and then hears
 * nothing: the database has stopped answering, as a hung host or a network partition would look.
 *
 * @param {number} postmasterPid
 * @param {number} holdMs
 * @returns {Promise<FaultWindow>}
 */
export async function freezeDatabase(postmasterPid, holdMs) {
  frozenPostmasters.add(postmasterPid);
  // The postmaster first, so that it forks no backend we would miss; then its children as they are.
  process.kill(postmasterPid, "SIGSTOP");
  const children = childrenOf(postmasterPid);
  for (const pid of children) signal(pid, "SIGSTOP");
  const startedAt = now();
  await sleep(holdMs);
  thaw(postmasterPid);
  const liftedAt = now();
  return { startedAt, liftedAt, details: `${children.length + 1} processes stopped for ${ms(liftedAt - startedAt)}` };
}

/** SIGCONT to the postmaster and its children. */
function thaw(/** @type {number} */ postmasterPid) {
  for (const pid of childrenOf(postmasterPid)) signal(pid, "SIGCONT");
  signal(postmasterPid, "SIGCONT");
  frozenPostmasters.delete(postmasterPid);
}

/**
 * A session's row lock held from another connection: `select … for update` in a transaction left
 * open for `holdMs`, as an operator's session or a stuck job would. Lifted when it commits.
 *
 * @param {string} url
 * @param {string} sessionUuid
 * @param {number} holdMs
 * @returns {Promise<FaultWindow>}
 */
export async function holdSessionLock(url, sessionUuid, holdMs) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  heldClients.add(sql);
  let startedAt = 0;
  try {
    await sql.begin(async (/** @type {import("postgres").TransactionSql} */ tx) => {
      // The holder waits for the lock as long as it takes (a turn may hold it for a moment), and
      // may stay idle in its transaction past the database's 10 s limit for such sessions.
      await tx`set local lock_timeout = 0`;
      await tx`set local idle_in_transaction_session_timeout = 0`;
      await tx`select 1 from chat_sessions where session_uuid = ${sessionUuid} for update`;
      startedAt = now();
      await sleep(holdMs);
    });
  } finally {
    await end(sql);
  }
  const liftedAt = now();
  return { startedAt, liftedAt, details: `row lock of one of the sessions held for ${ms(liftedAt - startedAt)}` };
}

/**
 * More connections than the server allows: idle connections opened one after another until the
 * server refuses one ("too many clients", SQLSTATE 53300), kept for `holdMs` while every slot
 * that frees (a request of the service finishing) is taken again, then closed. On from the first
 * refusal; lifted when every idle connection is closed.
 *
 * @param {string} url
 * @param {number} holdMs
 * @returns {Promise<FaultWindow>}
 */
export async function exhaustConnections(url, holdMs) {
  /** @type {import("postgres").Sql[]} */
  const held = [];
  let refusals = 0;
  const openOne = async () => {
    const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
    heldClients.add(sql);
    try {
      await sql`select 1`;
      held.push(sql);
      return true;
    } catch (error) {
      await end(sql);
      if (/** @type {{ code?: unknown } | undefined} */ (error)?.code === "53300") {
        refusals++;
        return false;
      }
      throw error;
    }
  };
  try {
    while (await openOne()) {
      if (held.length > 10_000) throw new Error("the server never refused a connection");
    }
    const startedAt = now();
    const openedFirst = held.length;
    while (now() - startedAt < holdMs) {
      if (!(await openOne())) await sleep(20);
    }
    const most = held.length;
    await Promise.all(held.map(end));
    const liftedAt = now();
    return {
      startedAt,
      liftedAt,
      details:
        `${openedFirst} idle connections opened before the first refusal, ${most - openedFirst} more taken ` +
        `as slots freed, ${refusals} refusals; all closed after ${ms(liftedAt - startedAt)}`,
    };
  } finally {
    await Promise.all(held.map(end));
  }
}

/** Ends what a fault still holds and wakes a frozen cluster; for a run that stops halfway. */
export async function releaseEverything() {
  for (const pid of frozenPostmasters) thaw(pid);
  await Promise.all([...heldClients].map(end));
}

/** The same, synchronously, for process exit: wake a frozen cluster so that it can shut down. */
export function thawNow() {
  for (const pid of frozenPostmasters) thaw(pid);
}

/** @param {import("postgres").Sql} sql */
async function end(sql) {
  heldClients.delete(sql);
  let timer;
  await Promise.race([
    sql.end({ timeout: 1 }).catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, 3_000);
    }),
  ]);
  clearTimeout(timer);
}

/** @param {number} parent */
function childrenOf(parent) {
  return [...processTable()].filter(([, ppid]) => ppid === parent).map(([pid]) => pid);
}

/** @param {number} pid @param {NodeJS.Signals} name */
function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {}
}

/** @param {number} value */
function ms(value) {
  return `${Math.round(value)} ms`;
}
