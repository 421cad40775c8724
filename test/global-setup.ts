/**
 * Starts what the tests need outside workerd: a migrated PostgreSQL 17 (ephemeral, in a temporary
 * folder on a free port, unless TEST_DATABASE_URL names one), and a free port where nothing
 * listens, and a fake OpenAI-compatible API and Qdrant on loopback; a real sign-in provider
 * (Better Auth) with two readers signed up, and a key-set server the tests control. The addresses
 * reach the pool's bindings and the tests through `provide`.
 */
import { mkdtemp } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { unstable_readConfig } from "wrangler";
import { buildAdminPageScript } from "../scripts/admin-page.mjs";
import { findFreePort, startLocalDatabase } from "../scripts/local-database.mjs";
import { applyMigrations } from "../scripts/migrations.mjs";
import { startFreezableProxy } from "./fakes/freezable-proxy.ts";
import { startIssuer } from "./fakes/issuer.ts";
import { startIssuerJwks } from "./fakes/issuer-jwks.ts";
import { startFakeUpstream } from "./fakes/upstream-server.ts";

// Under vitest 5 this file's imports resolve with the `workerd` condition, which would give
// postgres.js's Cloudflare build; require() gives the Node one.
const postgres = createRequire(import.meta.url)("postgres") as typeof import("postgres");

export default async function setup(project: TestProject) {
  // The pool does not run wrangler.toml's [build] command: the page's script is bundled here, from
  // the source as it is now, and again before each rerun in watch mode.
  await buildAdminPageScript();
  project.onTestsRerun(async () => {
    await buildAdminPageScript();
  });
  let databaseUrl: string | undefined = process.env.TEST_DATABASE_URL;
  let stop = async () => {};
  if (!databaseUrl) {
    const dataDir = await mkdtemp(path.join(tmpdir(), "chat-history-test-"));
    const database = await startLocalDatabase({ dataDir, port: await findFreePort(), persistent: false });
    databaseUrl = database.url;
    stop = database.stop;
  }
  await applyMigrations(databaseUrl);
  const crowdedDatabaseUrl = await createCrowdedRole(databaseUrl);
  const upstream = await startFakeUpstream();
  const database = new URL(databaseUrl);
  const freezable = await startFreezableProxy({ host: database.hostname, port: Number(database.port) });
  database.port = String(freezable.port);

  project.provide("databaseUrl", databaseUrl);
  project.provide("fakeUpstreamUrl", upstream.url);
  project.provide("crowdedDatabaseUrl", crowdedDatabaseUrl);
  project.provide("freezableDatabaseUrl", database.toString());
  project.provide("freezeControlUrl", freezable.controlUrl);
  const deployed = unstable_readConfig({ config: path.join(import.meta.dirname, "..", "wrangler.toml") });
  project.provide("deployedLogging", {
    observability: deployed.observability,
    logpush: deployed.logpush,
    tailConsumers: deployed.tail_consumers,
  });
  project.provide(
    "unreachableDatabaseUrl",
    `postgres://postgres:postgres@127.0.0.1:${await findFreePort()}/chat_history`,
  );
  const issuer = await startIssuer();
  const issuerJwks = await startIssuerJwks();
  project.provide("authIssuer", { url: issuer.url, jwksUrl: issuer.jwksUrl });
  project.provide("readers", {
    a: await issuer.signUp("reader-a@book.example", "Reader A"),
    b: await issuer.signUp("reader-b@book.example", "Reader B"),
  });
  project.provide("issuerJwksUrl", issuerJwks.url);
  project.provide("unreachableJwksUrl", `http://127.0.0.1:${await findFreePort()}/api/auth/jwks`);
  return async () => {
    await issuer.close();
    await issuerJwks.close();
    await upstream.close();
    await freezable.close();
    await stop();
  };
}

/**
 * A role that may not open any connection, so that connecting as it fails the way a database out
 * of connections does: SQLSTATE 53300, "too many connections for role".
 */
async function createCrowdedRole(databaseUrl: string): Promise<string> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`
      do $$ begin
        if not exists (select from pg_roles where rolname = 'crowded') then
          create role crowded login password 'crowded' connection limit 0;
        end if;
      end $$`);
  } finally {
    await sql.end();
  }
  const url = new URL(databaseUrl);
  url.username = "crowded";
  url.password = "crowded";
  return url.toString();
}
