// Applies the drizzle migrations in <repo>/drizzle to any database URL: the one migration runner,
// used by `npm run db:migrate` (and predeploy, against Neon), `npm run dev`, the benches and the
// tests' global setup.
//
// It keeps drizzle-orm's semantics and bookkeeping: the same files read by drizzle's own reader
// (so the same statements and sha256 hashes), the same `drizzle.__drizzle_migrations` table, a
// migration pending when its journal time is later than the last recorded one, and the pending
// migrations applied in one transaction. drizzle-kit and databases migrated before (Neon in
// production) see no difference. What it adds: a migration whose first line is
// `-- migrate: no-transaction` runs outside any transaction, one statement (between drizzle's
// `--> statement-breakpoint`s) at a time, because `CREATE INDEX CONCURRENTLY` refuses to run
// in a transaction block, and drizzle's migrator runs everything in one. That is how a structure
// is added to a large table without locking out its writes (docs/deploy.md, "Migrations on a
// large table").
//
// `postgres` and drizzle-orm are loaded with require(), for the reason local-database.mjs gives.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { closeClient, REPO_ROOT } from "./local-database.mjs";

const require = createRequire(import.meta.url);

export const MIGRATIONS_DIR = path.join(REPO_ROOT, "drizzle");
export const NO_TRANSACTION_MARKER = "-- migrate: no-transaction";

// drizzle's defaults (drizzle-orm/pg-core/dialect.js), which drizzle.config.ts keeps.
const MIGRATIONS_SCHEMA = "drizzle";
const MIGRATIONS_TABLE = "__drizzle_migrations";

// A session-level advisory lock, so two runs (two deploys, or `npm run dev` twice) never apply
// the same migration at once. drizzle's one transaction made a second run fail or wait on its
// own; a migration outside a transaction has no such guard, and a second run would take the
// first run's index, still being built and so not yet valid, for a failed build and drop it.
// Any fixed bigint; this one is "drizzle" in ASCII.
const MIGRATION_LOCK_KEY = 0x6472697a7a6c65n;
const MIGRATION_LOCK_RETRY_MS = 500;

// How long a migration's statement waits for a lock before it gives up and is tried again, and
// the waits between the tries. `ALTER TABLE` needs an ACCESS EXCLUSIVE lock, for an instant; but
// while it waits for a long query to end, every chat turn's insert waits behind it in the lock
// queue, and the database's own lock_timeout (2 s, drizzle/0001) cancels them with 503. Giving up
// after as long lets those turns through; the statement is tried again when the query may have
// ended. A concurrent index build is the exception: it waits for older transactions by design,
// blocking no one, and is given no lock_timeout.
const LOCK_TIMEOUT = "2s";
const LOCK_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];
const LOCK_NOT_AVAILABLE = "55P03";

const CONCURRENTLY = /\b(?:create|drop|reindex)\b[^;]*?\bconcurrently\b/i;
// A concurrent index build, with its index name (optionally schema-qualified, optionally quoted).
const CONCURRENT_INDEX_BUILD =
  /\bcreate\s+(?:unique\s+)?index\s+concurrently\s+(if\s+not\s+exists\s+)?((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)/i;

/**
 * @typedef {import("drizzle-orm/migrator").MigrationMeta & { tag: string, noTransaction: boolean }} Migration
 */

/**
 * Applies the pending migrations in `migrationsFolder` to the database at `url`.
 *
 * @param {string} url a direct connection (never Hyperdrive's or a transaction-mode pooler's:
 *   the session's settings and advisory lock must hold from one statement to the next)
 * @param {object} [options]
 * @param {string} [options.migrationsFolder]
 * @param {(message: string) => void} [options.log]
 * @returns {Promise<number>} how many migrations were applied
 */
export async function applyMigrations(url, { migrationsFolder = MIGRATIONS_DIR, log = console.error } = {}) {
  const migrations = readMigrations(migrationsFolder);
  const postgres = require("postgres");
  // One connection, so that the settings and the lock below hold for every statement: a migration
  // may take longer than the statement_timeout the service's sessions get (drizzle/0001).
  /** @type {import("postgres").Sql} */
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`set statement_timeout = 0`;
    await sql.unsafe(`set lock_timeout = '${LOCK_TIMEOUT}'`);
    await takeMigrationLock(sql, log);
    const pending = await pendingMigrations(sql, migrations);
    let applied = 0;
    while (applied < pending.length) {
      const next = pending[applied];
      if (next.noTransaction) {
        await applyOutsideTransaction(sql, next, log);
        applied += 1;
      } else {
        // Consecutive ordinary migrations share one transaction, as all of them do in drizzle's.
        const end = pending.findIndex((migration, index) => index > applied && migration.noTransaction);
        const batch = pending.slice(applied, end === -1 ? pending.length : end);
        // A lock not granted in time rolls the whole transaction back, so it is tried again whole.
        await retryingLockTimeouts(batch.map((migration) => migration.tag).join(", "), log, () =>
          sql.begin(async (tx) => {
            for (const migration of batch) {
              for (const statement of migration.sql) await tx.unsafe(statement);
              await record(tx, migration);
            }
          }),
        );
        applied += batch.length;
      }
    }
    return applied;
  } finally {
    await closeClient(sql);
  }
}

/**
 * The folder's migrations as drizzle reads them, each checked before anything runs: a concurrent
 * statement in an ordinary migration would fail mid-way with "cannot run inside a transaction
 * block", and a concurrent index build without IF NOT EXISTS could not be run again after a
 * failure.
 *
 * @param {string} migrationsFolder
 * @returns {Migration[]}
 */
function readMigrations(migrationsFolder) {
  const { readMigrationFiles } = require("drizzle-orm/migrator");
  /** @type {import("drizzle-orm/migrator").MigrationMeta[]} */
  const read = readMigrationFiles({ migrationsFolder });
  /** @type {{ entries: { tag: string }[] }} */
  const journal = JSON.parse(readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8"));
  return read.map((migration, index) => {
    const tag = journal.entries[index].tag;
    const firstLine = migration.sql[0].trimStart().split("\n", 1)[0].trim();
    const noTransaction = firstLine === NO_TRANSACTION_MARKER;
    for (const statement of migration.sql) {
      const build = CONCURRENT_INDEX_BUILD.exec(statement);
      if (!noTransaction && CONCURRENTLY.test(statement)) {
        throw new Error(
          `${tag}.sql uses CONCURRENTLY, which cannot run in a transaction: make "${NO_TRANSACTION_MARKER}" its first line.`,
        );
      }
      if (build && !build[1]) {
        throw new Error(
          `${tag}.sql builds index ${build[2]} concurrently without IF NOT EXISTS, so it could not be run again after a failure.`,
        );
      }
    }
    return { ...migration, tag, noTransaction };
  });
}

/**
 * Takes the migration lock, trying again until the run that holds it has finished. Not with
 * pg_advisory_lock(), which would wait inside a statement: a concurrent index build waits for
 * every transaction older than it to end, so the holder's build would wait for our wait, and
 * PostgreSQL would end both with "deadlock detected". Each try here ends at once.
 *
 * @param {import("postgres").Sql} sql
 * @param {(message: string) => void} log
 */
async function takeMigrationLock(sql, log) {
  for (let attempt = 0; ; attempt++) {
    const [{ locked }] = await sql`select pg_try_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint) as locked`;
    if (locked) return;
    if (attempt === 0) log("Another migration run holds the migration lock: waiting for it to finish...");
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_LOCK_RETRY_MS));
  }
}

/**
 * drizzle's rule: the migrations whose journal time is later than the last one recorded.
 *
 * @param {import("postgres").Sql} sql
 * @param {Migration[]} migrations
 */
async function pendingMigrations(sql, migrations) {
  await sql.unsafe(`create schema if not exists "${MIGRATIONS_SCHEMA}"`);
  await sql.unsafe(
    `create table if not exists "${MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}" (id serial primary key, hash text not null, created_at bigint)`,
  );
  const [last] = await sql.unsafe(
    `select created_at from "${MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}" order by created_at desc limit 1`,
  );
  return migrations.filter((migration) => !last || Number(last.created_at) < migration.folderMillis);
}

/**
 * Runs a no-transaction migration's statements one by one, and records it once all have
 * succeeded. A run that fails half-way records nothing, so the next run repeats every statement:
 * each must be idempotent (IF NOT EXISTS, a backfill that skips the rows it has done). An index
 * that a failed concurrent build left behind exists but is INVALID, and IF NOT EXISTS would keep
 * it: it is dropped (concurrently too) before its build is run again.
 *
 * @param {import("postgres").Sql} sql
 * @param {Migration} migration
 * @param {(message: string) => void} log
 */
async function applyOutsideTransaction(sql, migration, log) {
  // It may take minutes on a large table (docs/deploy.md has figures), so say what is going on.
  log(
    `${migration.tag}: applying outside a transaction (${migration.sql.length} statement${migration.sql.length === 1 ? "" : "s"})...`,
  );
  for (const statement of migration.sql) {
    const build = CONCURRENT_INDEX_BUILD.exec(statement);
    if (build) {
      const [invalid] = await sql`
        select indexrelid::regclass::text as name from pg_index
        where indexrelid = to_regclass(${build[2]}) and not indisvalid`;
      if (invalid) {
        log(`${migration.tag}: dropping index ${invalid.name}, left invalid by a build that failed, to build it again`);
        await withoutLockTimeout(sql, () => sql.unsafe(`drop index concurrently if exists ${invalid.name}`));
      }
    }
    if (CONCURRENTLY.test(statement)) await withoutLockTimeout(sql, () => sql.unsafe(statement));
    // Each statement is idempotent (above), so one that gave up waiting for a lock is run again.
    else await retryingLockTimeouts(migration.tag, log, () => sql.unsafe(statement));
  }
  await record(sql, migration);
}

/**
 * Runs `run`, and again after a pause each time it fails because a lock was not granted within
 * LOCK_TIMEOUT, as many times as LOCK_RETRY_DELAYS_MS has pauses; then fails with that error.
 *
 * @template T
 * @param {string} what the migrations being applied, for the log
 * @param {(message: string) => void} log
 * @param {() => Promise<T>} run
 * @returns {Promise<T>}
 */
async function retryingLockTimeouts(what, log, run) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const delay = LOCK_RETRY_DELAYS_MS[attempt];
      if (/** @type {{ code?: string }} */ (error)?.code !== LOCK_NOT_AVAILABLE || delay === undefined) throw error;
      log(
        `${what}: a lock was not granted within ${LOCK_TIMEOUT} (another session holds it); letting the service's writes through and trying again in ${delay / 1000} s...`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Runs a concurrent statement with no lock_timeout: it waits for older transactions to end
 * without blocking anyone's writes, and cancelling it would leave an invalid index to rebuild.
 *
 * @template T
 * @param {import("postgres").Sql} sql
 * @param {() => Promise<T>} run
 * @returns {Promise<T>}
 */
async function withoutLockTimeout(sql, run) {
  await sql`set lock_timeout = 0`;
  try {
    return await run();
  } finally {
    await sql.unsafe(`set lock_timeout = '${LOCK_TIMEOUT}'`);
  }
}

/**
 * The row drizzle's migrator writes for a migration it has applied.
 *
 * @param {import("postgres").Sql | import("postgres").TransactionSql} sql
 * @param {Migration} migration
 */
async function record(sql, migration) {
  await sql.unsafe(`insert into "${MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}" ("hash", "created_at") values ($1, $2)`, [
    migration.hash,
    migration.folderMillis,
  ]);
}
