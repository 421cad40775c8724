/**
 * Starts what the tests need outside workerd: a migrated PostgreSQL 17 (ephemeral, in a temporary
 * folder on a free port, unless TEST_DATABASE_URL names one), and a free port where nothing
 * listens, and a fake OpenAI-compatible API and Qdrant on loopback. The addresses reach the pool's
 * bindings and the tests through `provide`.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { applyMigrations, findFreePort, startLocalDatabase } from "../scripts/local-database.mjs";
import { startFakeUpstream } from "./fakes/upstream-server.ts";

export default async function setup(project: TestProject) {
  let databaseUrl: string | undefined = process.env.TEST_DATABASE_URL;
  let stop = async () => {};
  if (!databaseUrl) {
    const dataDir = await mkdtemp(path.join(tmpdir(), "chat-history-test-"));
    const database = await startLocalDatabase({ dataDir, port: await findFreePort(), persistent: false });
    databaseUrl = database.url;
    stop = database.stop;
  }
  await applyMigrations(databaseUrl);
  const upstream = await startFakeUpstream();

  project.provide("databaseUrl", databaseUrl);
  project.provide("fakeUpstreamUrl", upstream.url);
  project.provide(
    "unreachableDatabaseUrl",
    `postgres://postgres:postgres@127.0.0.1:${await findFreePort()}/chat_history`,
  );
  return async () => {
    await upstream.close();
    await stop();
  };
}
