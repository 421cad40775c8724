// `npm run test:migrations`: the migration runner (scripts/migrations.mjs) against a real
// PostgreSQL 17, an embedded cluster in a temporary folder. A node:test file run in Node, because
// the Workers test pool cannot start a database or read the migrations folder.
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { closeClient, findFreePort, startLocalDatabase } from "./local-database.mjs";
import { applyMigrations, MIGRATIONS_DIR, NO_TRANSACTION_MARKER } from "./migrations.mjs";

const require = createRequire(import.meta.url);
const postgres = require("postgres");
const { drizzle } = require("drizzle-orm/postgres-js");
const { migrate: drizzleMigrate } = require("drizzle-orm/postgres-js/migrator");
const { readMigrationFiles } = require("drizzle-orm/migrator");

/** How many migrations the repository ships; each test appends its own after them. */
const shipped = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR }).length;
/** How many come before the first no-transaction one: those that drizzle's own migrator applied. */
const ordinaryPrefix = (() => {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR });
  const first = migrations.findIndex((/** @type {{ sql: string[] }} */ migration) =>
    migration.sql[0].trimStart().startsWith(NO_TRANSACTION_MARKER),
  );
  return first === -1 ? migrations.length : first;
})();

/** @type {Awaited<ReturnType<typeof startLocalDatabase>>} */
let cluster;
/** @type {string[]} */
const scratchFolders = [];
let databases = 0;

before(async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), "chat-history-migrations-"));
  cluster = await startLocalDatabase({ dataDir, port: await findFreePort(), persistent: false });
});

after(async () => {
  await cluster?.stop();
  for (const folder of scratchFolders) await rm(folder, { recursive: true, force: true });
});

test("a no-transaction migration is applied once, and recorded exactly as drizzle records a migration", async () => {
  const folder = await migrationsWith([
    {
      tag: "0006_sender_index",
      sql: `${NO_TRANSACTION_MARKER}\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "chat_messages_sender_idx" ON "chat_messages" ("sender");`,
    },
  ]);
  const ours = await freshDatabase();
  const drizzles = await freshDatabase();

  assert.equal(await applyMigrations(ours, { migrationsFolder: folder }), shipped + 1);
  assert.equal(await indexValidity(ours, "chat_messages_sender_idx"), true);
  const expected = readMigrationFiles({ migrationsFolder: folder }).map(
    (/** @type {{ hash: string, folderMillis: number }} */ migration) => ({
      hash: migration.hash,
      created_at: String(migration.folderMillis),
    }),
  );
  assert.deepEqual(await recorded(ours), expected);

  // A database that drizzle's own migrator brought up to date (as Neon's was, up to the first
  // no-transaction migration, which drizzle's migrator cannot run) carries on.
  const drizzlesFolder = await drizzlesMigrations();
  await withClient(drizzles, (sql) => drizzleMigrate(drizzle(sql), { migrationsFolder: drizzlesFolder }));
  assert.deepEqual(await recorded(drizzles), expected.slice(0, ordinaryPrefix));
  assert.equal(await applyMigrations(drizzles, { migrationsFolder: folder }), shipped + 1 - ordinaryPrefix);
  assert.deepEqual(await recorded(drizzles), expected);

  assert.equal(await applyMigrations(ours, { migrationsFolder: folder }), 0);
  // drizzle's migrator sees nothing pending either (it would fail on CONCURRENTLY if it did).
  await withClient(ours, (sql) => drizzleMigrate(drizzle(sql), { migrationsFolder: folder }));
  assert.deepEqual(await recorded(ours), expected);
});

test("a concurrent index build that failed records nothing, and the next run drops the invalid index and builds it again", async () => {
  const fixtureTable = { tag: "0006_fixture", sql: 'CREATE TABLE "migration_fixture" ("v" integer NOT NULL);' };
  const uniqueIndex = {
    tag: "0007_fixture_unique",
    sql: `${NO_TRANSACTION_MARKER}\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "migration_fixture_v_unique" ON "migration_fixture" ("v");`,
  };
  const url = await freshDatabase();
  await applyMigrations(url, { migrationsFolder: await migrationsWith([fixtureTable]) });
  await withClient(url, (sql) => sql`insert into migration_fixture (v) values (1), (1)`);
  const folder = await migrationsWith([fixtureTable, uniqueIndex]);

  await assert.rejects(applyMigrations(url, { migrationsFolder: folder }), /could not create unique index/);
  assert.equal(await indexValidity(url, "migration_fixture_v_unique"), false);
  assert.equal((await recorded(url)).length, shipped + 1);

  await withClient(
    url,
    (sql) => sql`update migration_fixture set v = 2 where ctid = (select max(ctid) from migration_fixture)`,
  );
  /** @type {string[]} */
  const logged = [];
  assert.equal(await applyMigrations(url, { migrationsFolder: folder, log: (line) => logged.push(line) }), 1);
  assert.equal(await indexValidity(url, "migration_fixture_v_unique"), true);
  assert.match(logged.join("\n"), /dropping index migration_fixture_v_unique, left invalid/);
  assert.equal((await recorded(url)).length, shipped + 2);
});

test("a no-transaction migration can add a column, backfill it in batches that commit one by one, index it and make it NOT NULL", async () => {
  const fixtureTable = {
    tag: "0006_fixture",
    sql: 'CREATE TABLE "migration_fixture" ("id" integer PRIMARY KEY, "v" integer NOT NULL);',
  };
  const url = await freshDatabase();
  await applyMigrations(url, { migrationsFolder: await migrationsWith([fixtureTable]) });
  await withClient(url, (sql) => sql`insert into migration_fixture select g, g from generate_series(1, 2500) as g`);
  const folder = await migrationsWith([
    fixtureTable,
    {
      tag: "0007_fixture_doubled",
      sql: `${NO_TRANSACTION_MARKER}
ALTER TABLE "migration_fixture" ADD COLUMN IF NOT EXISTS "doubled" integer;--> statement-breakpoint
DO $$
DECLARE
  updated integer;
BEGIN
  LOOP
    UPDATE "migration_fixture" SET "doubled" = "v" * 2
    WHERE "id" IN (SELECT "id" FROM "migration_fixture" WHERE "doubled" IS NULL ORDER BY "id" LIMIT 1000);
    GET DIAGNOSTICS updated = ROW_COUNT;
    COMMIT;
    EXIT WHEN updated = 0;
  END LOOP;
END $$;--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "migration_fixture_doubled_idx" ON "migration_fixture" ("doubled");--> statement-breakpoint
ALTER TABLE "migration_fixture" DROP CONSTRAINT IF EXISTS "migration_fixture_doubled_not_null";--> statement-breakpoint
ALTER TABLE "migration_fixture" ADD CONSTRAINT "migration_fixture_doubled_not_null" CHECK ("doubled" IS NOT NULL) NOT VALID;--> statement-breakpoint
ALTER TABLE "migration_fixture" VALIDATE CONSTRAINT "migration_fixture_doubled_not_null";--> statement-breakpoint
ALTER TABLE "migration_fixture" ALTER COLUMN "doubled" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "migration_fixture" DROP CONSTRAINT "migration_fixture_doubled_not_null";`,
    },
  ]);

  assert.equal(await applyMigrations(url, { migrationsFolder: folder }), 1);
  const [counts] = await withClient(
    url,
    (sql) => sql`select count(*)::int as rows, count(*) filter (where doubled = v * 2)::int as filled,
      count(distinct xmin::text)::int as transactions from migration_fixture`,
  );
  assert.deepEqual(counts, { rows: 2500, filled: 2500, transactions: 3 });
  assert.equal(await indexValidity(url, "migration_fixture_doubled_idx"), true);
  const [column] = await withClient(
    url,
    (sql) => sql`select is_nullable from information_schema.columns
      where table_name = 'migration_fixture' and column_name = 'doubled'`,
  );
  assert.equal(column.is_nullable, "NO");
});

test("two runs at once apply each migration once: the second waits for the first", async () => {
  const folder = await migrationsWith([
    {
      tag: "0006_sender_index",
      sql: `${NO_TRANSACTION_MARKER}\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "chat_messages_sender_idx" ON "chat_messages" ("sender");`,
    },
  ]);
  const url = await freshDatabase();
  const applied = await Promise.all([
    applyMigrations(url, { migrationsFolder: folder }),
    applyMigrations(url, { migrationsFolder: folder }),
  ]);
  assert.deepEqual(
    applied.sort((a, b) => a - b),
    [0, shipped + 1],
  );
  assert.equal((await recorded(url)).length, shipped + 1);
  assert.equal(await indexValidity(url, "chat_messages_sender_idx"), true);
});

test("a statement that waits for a lock gives up after 2 s, lets the writes queued behind it through, and is tried again", async () => {
  const fixtureTable = { tag: "0100_fixture", sql: 'CREATE TABLE "migration_fixture" ("v" integer NOT NULL);' };
  const url = await freshDatabase();
  await applyMigrations(url, { migrationsFolder: await migrationsWith([fixtureTable]) });
  const folder = await migrationsWith([
    fixtureTable,
    { tag: "0101_fixture_column", sql: 'ALTER TABLE "migration_fixture" ADD COLUMN "w" integer;' },
  ]);
  const holdMs = 6000;
  const holder = postgres(url, { max: 1, onnotice: () => {} });
  const writer = postgres(url, { max: 1, onnotice: () => {} });
  /** @type {string[]} */
  const logged = [];
  try {
    // A long query, as an operator's report would be: its ACCESS SHARE lock is held until it ends.
    let held = () => {};
    const holding = holder.begin(async (tx) => {
      await tx`set local statement_timeout = 0`;
      await tx`select * from migration_fixture`;
      held();
      await tx`select pg_sleep(${holdMs / 1000})`;
    });
    await new Promise((resolve) => {
      held = () => resolve(undefined);
    });
    const migrating = applyMigrations(url, { migrationsFolder: folder, log: (message) => logged.push(message) });
    // A chat turn's insert, with the service's own lock_timeout, arriving while the ALTER waits.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    await writer.begin(async (tx) => {
      await tx`set local lock_timeout = '4s'`;
      await tx`insert into migration_fixture (v) values (1)`;
    });
    const waited = Date.now() - started;
    assert.ok(waited < holdMs - 1000, `the insert waited ${waited} ms, as long as the long query`);
    await holding;
    assert.equal(await migrating, 1);
    assert.ok(
      logged.some((message) => /0101_fixture_column: a lock was not granted within 2s/.test(message)),
      logged.join("\n"),
    );
    const [column] = await writer`select count(*)::int as found from information_schema.columns
      where table_name = 'migration_fixture' and column_name = 'w'`;
    assert.equal(column.found, 1);
  } finally {
    await closeClient(holder);
    await closeClient(writer);
  }
});

test("0007 fills each session's failures and rated_down with the counts the admin list showed before, in batches", async () => {
  const url = await freshDatabase();
  await applyMigrations(url, { migrationsFolder: await drizzlesMigrations() });
  // 2,500 sessions (three batches) of every kind: answered, unanswered, cut short, rated down,
  // imported with an unanswered question and a cut answer rated down.
  await withClient(url, async (sql) => {
    await sql`insert into chat_sessions (session_uuid, message_count, import_id, import_hash)
      select gen_random_uuid(), 4, case when n % 7 = 0 then gen_random_uuid() end, case when n % 7 = 0 then 'h' end
      from generate_series(1, 2500) n`;
    await sql`
      with questions as (
        insert into chat_messages (session_id, seq, sender, message, timestamp, metadata)
        select s.id, q.seq, 'user', 'Question', now(),
          case when s.import_id is not null then '{"imported": true}'::jsonb end
        from chat_sessions s, (values (1), (3)) q(seq)
        returning id, session_id, seq, metadata)
      insert into chat_messages (session_id, seq, sender, message, timestamp, status, reply_to_id, metadata, feedback_rating, feedback_at)
      select session_id, seq + 1, 'bot', 'Answer', now(), case when session_id % 5 = 0 then 'incomplete' else 'complete' end,
        id, metadata, case when session_id % 3 = 0 then 'down' when session_id % 3 = 1 then 'up' end,
        case when session_id % 3 < 2 then now() end
      from questions where seq = 1 or session_id % 4 <> 0`;
  });
  assert.equal(await applyMigrations(url), shipped - ordinaryPrefix);
  const [counts] = await withClient(
    url,
    (sql) => sql`
      with recounted as (
        select s.id, s.failures, s.rated_down,
          (select count(*) filter (where sender = 'user' and metadata is null) - count(*) filter (where sender = 'bot' and metadata is null)
            + count(*) filter (where status = 'incomplete' and metadata is null) from chat_messages where session_id = s.id) as expected_failures,
          (select count(*) filter (where feedback_rating = 'down') from chat_messages where session_id = s.id) as expected_down
        from chat_sessions s)
      select count(*)::int as sessions,
        count(*) filter (where failures = expected_failures and rated_down = expected_down)::int as equal,
        count(*) filter (where failures > 0)::int as failing, count(*) filter (where rated_down > 0)::int as rated_down
      from recounted`,
  );
  assert.equal(counts.sessions, 2500);
  assert.equal(counts.equal, 2500);
  // Each 4th native session has an unanswered question, each 5th a cut answer; none imported.
  assert.ok(counts.failing > 500 && counts.rated_down > 500, JSON.stringify(counts));
});

test("a migration that would fail half-way or could not be repeated is refused before anything runs", async () => {
  const url = await freshDatabase();
  const withoutMarker = await migrationsWith([
    { tag: "0006_no_marker", sql: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "x_idx" ON "chat_messages" ("sender");' },
  ]);
  await assert.rejects(
    applyMigrations(url, { migrationsFolder: withoutMarker }),
    /0006_no_marker\.sql uses CONCURRENTLY, which cannot run in a transaction: make "-- migrate: no-transaction" its first line/,
  );
  const withoutIfNotExists = await migrationsWith([
    {
      tag: "0006_not_repeatable",
      sql: `${NO_TRANSACTION_MARKER}\nCREATE INDEX CONCURRENTLY "x_idx" ON "chat_messages" ("sender");`,
    },
  ]);
  await assert.rejects(
    applyMigrations(url, { migrationsFolder: withoutIfNotExists }),
    /0006_not_repeatable\.sql builds index "x_idx" concurrently without IF NOT EXISTS/,
  );
  assert.deepEqual(await recorded(url), []);
});

/**
 * A copy of <repo>/drizzle with `extra` migrations appended to its journal, a second apart.
 *
 * @param {{ tag: string, sql: string }[]} extra
 */
async function migrationsWith(extra) {
  const folder = await mkdtemp(path.join(tmpdir(), "chat-history-migrations-folder-"));
  scratchFolders.push(folder);
  await cp(MIGRATIONS_DIR, folder, { recursive: true });
  const journalPath = path.join(folder, "meta", "_journal.json");
  /** @type {{ entries: { idx: number, version: string, when: number, tag: string, breakpoints: boolean }[] }} */
  const journal = JSON.parse(await readFile(journalPath, "utf8"));
  const last = journal.entries[journal.entries.length - 1];
  for (const [index, migration] of extra.entries()) {
    journal.entries.push({
      idx: last.idx + index + 1,
      version: last.version,
      when: last.when + (index + 1) * 1000,
      tag: migration.tag,
      breakpoints: true,
    });
    await writeFile(path.join(folder, `${migration.tag}.sql`), migration.sql);
  }
  await writeFile(journalPath, JSON.stringify(journal, null, 2));
  return folder;
}

/** A copy of <repo>/drizzle holding only its first `ordinaryPrefix` migrations. */
async function drizzlesMigrations() {
  const folder = await mkdtemp(path.join(tmpdir(), "chat-history-migrations-folder-"));
  scratchFolders.push(folder);
  await cp(MIGRATIONS_DIR, folder, { recursive: true });
  const journalPath = path.join(folder, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8"));
  journal.entries = journal.entries.slice(0, ordinaryPrefix);
  await writeFile(journalPath, JSON.stringify(journal, null, 2));
  return folder;
}

/** A new, empty database in the cluster; its URL. */
async function freshDatabase() {
  databases += 1;
  const name = `migrations_${databases}`;
  await withClient(cluster.url, (sql) => sql.unsafe(`create database ${name}`));
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * @param {string} url
 * @returns {Promise<{ hash: string, created_at: string }[]>} what drizzle's table holds, in order
 */
async function recorded(url) {
  return withClient(url, async (sql) => {
    const [{ exists }] = await sql`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`;
    if (!exists) return [];
    const rows = await sql`select hash, created_at::text from drizzle.__drizzle_migrations order by id`;
    return rows.map((row) => ({ hash: String(row.hash), created_at: String(row.created_at) }));
  });
}

/**
 * @param {string} url
 * @param {string} index
 * @returns {Promise<boolean | undefined>} undefined when there is no such index
 */
async function indexValidity(url, index) {
  return withClient(url, async (sql) => {
    const [row] = await sql`select indisvalid from pg_index where indexrelid = to_regclass(${index})`;
    return row?.indisvalid;
  });
}

/**
 * @template T
 * @param {string} url
 * @param {(sql: import("postgres").Sql) => Promise<T>} use
 */
async function withClient(url, use) {
  /** @type {import("postgres").Sql} */
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await use(sql);
  } finally {
    await closeClient(sql);
  }
}
