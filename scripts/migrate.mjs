// `npm run db:migrate`: applies the pending drizzle migrations to NEON_DATABASE_URL when it is
// set (environment or .dev.vars), otherwise to the local embedded PostgreSQL.
// `--remote` (used by predeploy) requires NEON_DATABASE_URL instead of falling back to local.
import {
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  describeDatabaseUrl,
  errorMessage,
  localSetting,
  startLocalDatabase,
} from "./local-database.mjs";
import { applyMigrations } from "./migrations.mjs";

/** @type {{ url: string, stop: () => Promise<void> } | undefined} */
let db;
/** @type {string | undefined} */
let remoteUrl;
/** @type {Promise<never> | undefined} */
let finishing;

/**
 * Stops the local database (if started) and exits; the first caller decides the outcome.
 *
 * @param {number} code
 * @param {string} [message]
 */
function finish(code, message) {
  finishing ??= (async () => {
    // A database that is still starting is stopped by local-database.mjs's exit hook.
    await db?.stop().catch(() => {});
    if (message) (code === 0 ? console.log : console.error)(message);
    process.exit(code);
  })();
  return finishing;
}

for (const [signal, code] of /** @type {const} */ ([
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
])) {
  process.on(signal, () => void finish(code));
}
// postgres.js can reject a promise nobody holds when the server vanishes mid-handshake.
process.on("unhandledRejection", (error) => {
  void finish(1, `db:migrate failed: ${errorMessage(error, remoteUrl)}`);
});

try {
  const args = process.argv.slice(2);
  const unknown = args.find((arg) => arg !== "--remote");
  if (unknown) throw new Error(`unknown argument "${unknown}" (the only option is --remote)`);
  remoteUrl = localSetting("NEON_DATABASE_URL");
  if (args.includes("--remote") && !remoteUrl) {
    throw new Error("--remote needs NEON_DATABASE_URL, in the environment or in .dev.vars.");
  }
  let url;
  let target;
  if (remoteUrl) {
    url = remoteUrl;
    target = `${describeDatabaseUrl(remoteUrl)} (NEON_DATABASE_URL)`;
  } else {
    db = await startLocalDatabase({ dataDir: DEFAULT_DATA_DIR, port: DEFAULT_PORT });
    url = db.url;
    target = `${describeDatabaseUrl(db.url)} (local)`;
  }
  const applied = await applyMigrations(url);
  await finish(
    0,
    applied === 0
      ? `No pending migrations: ${target} is up to date.`
      : `Applied ${applied} migration${applied === 1 ? "" : "s"} to ${target}.`,
  );
} catch (error) {
  await finish(1, `db:migrate failed: ${errorMessage(error, remoteUrl)}`);
}
