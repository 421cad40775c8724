import { drizzle } from "drizzle-orm/postgres-js";
import type { Database } from "./client";

/** A Drizzle database with no client: statements are built against it, never run on it. */
const blueprints = drizzle.mock();
export type Blueprints = typeof blueprints;

/** What `statement` needs of a prepared query: the builders of db/ return these. */
export type Prepared = { execute(values?: Record<string, unknown>): Promise<unknown> };

/**
 * A statement whose SQL text is built once per isolate and run with each request's client.
 * Drizzle otherwise rebuilds a query's text every time it runs, walking every fragment: 0.2 to
 * 0.5 ms of CPU per statement (measured), against a Worker's whole request budget of a few
 * milliseconds. The text never changes between requests; the values do, as placeholders (./fragments.ts)
 * filled by `execute`. The result keeps Drizzle's types and row decoding.
 *
 * The per-request copy only swaps in the request's client: Drizzle's prepared query reads its
 * client at execution, and Workers may not share a client between requests (src/db/client.ts).
 * It also runs unnamed, as any Drizzle query does: a named statement would be kept by a
 * connection that Hyperdrive pools.
 *
 * This leans on how drizzle-orm (pinned exactly in package.json) builds its prepared query for
 * postgres-js (PostgresJsPreparedQuery in drizzle-orm/postgres-js/session.js). When upgrading it,
 * re-check there that the class still:
 * - holds the SQL text and parameters it built in its constructor, and fills the placeholders
 *   only in `execute` (else one request's values would be kept for the next);
 * - reads `this.client` and `this.prepare` in `execute`, as the own properties that the copy
 *   overrides (else every request would run on the first request's client, or as a named statement);
 * - keeps no other per-execution state on the instance, which the copies share;
 * and run test/database-timeouts.test.ts (each request's client) and `npm run bench` (the CPU).
 */
export function statement<P extends Prepared>(name: string, build: (db: Blueprints) => { prepare(name: string): P }) {
  let blueprint: P | undefined;
  return (db: Database): P => {
    blueprint ??= build(blueprints).prepare(name);
    return Object.create(blueprint, { client: { value: db.$client }, prepare: { value: false } });
  };
}
