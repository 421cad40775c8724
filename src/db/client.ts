import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { DeadlineExceeded, withDeadline } from "../deadline";
import { DatabaseDeadlineExceeded } from "./errors";

export type Database = ReturnType<typeof createDatabase>;

/**
 * A client for one request. Workers may not share sockets across requests, so the client is made
 * per request and never at module scope; Hyperdrive pools the real connections to Postgres.
 * The client is never ended with `sql.end()`: on workerd that leaves an unhandled
 * "Stream was cancelled" rejection, and the sockets close with the request anyway.
 */
export function createDatabase(connectionString: string, timeoutMs: number) {
  const client = postgres(connectionString, {
    // A request runs its statements one after another, and postgres.js builds all `max`
    // connection objects up front: one is all a request uses (Workers allow six sockets).
    max: 1,
    // Skips the type-catalogue query on connect: one round trip less, and our columns need
    // only the built-in parsers.
    fetch_types: false,
    connect_timeout: Math.ceil(timeoutMs / 1000),
    onnotice: () => {},
  });
  const db = drizzle(client);
  waitRenewals.set(db, boundEveryStatement(client, timeoutMs));
  return db;
}

const waitRenewals = new WeakMap<object, () => void>();

/**
 * Gives the request its whole DB_TIMEOUT_MS of waiting on the database again. For a download
 * streamed a page at a time (an admin list's CSV), which is many requests' worth of statements:
 * each page may wait as long as a request may, so a database that stops answering still breaks
 * it within DB_TIMEOUT_MS, and a long download of a healthy one is not cut at the sum.
 */
export function renewDatabaseWait(db: Database): void {
  waitRenewals.get(db)?.();
}

/**
 * Gives the request `timeoutMs` of waiting on the database in all, connecting included: every
 * statement sent through `client` (Drizzle sends all of them through `unsafe`) gets what is left
 * of it. Time spent elsewhere, such as waiting for the model between a turn's two statements,
 * does not count. The database stops a long statement or lock wait by itself (statement_timeout,
 * lock_timeout); this is for a database or network that stops answering, which nothing on the
 * server side can bound. The Worker only stops waiting: cancelling through Hyperdrive's pool is
 * not documented, and could reach another client's statement.
 */
function boundEveryStatement(client: postgres.Sql, timeoutMs: number): () => void {
  const unsafe = client.unsafe;
  let waitedMs = 0;
  const bounded = async (query: Promise<unknown>) => {
    const started = Date.now();
    try {
      return await withDeadline(Math.max(timeoutMs - waitedMs, 1), () => query);
    } catch (error) {
      throw error instanceof DeadlineExceeded ? new DatabaseDeadlineExceeded(timeoutMs) : error;
    } finally {
      waitedMs += Date.now() - started;
    }
  };
  // postgres.js queries run when first awaited, so the mode (`values()`) is chosen before that.
  client.unsafe = ((...args: Parameters<typeof unsafe>) => {
    const query = unsafe(...args);
    return {
      values: () => bounded(query.values()),
      // biome-ignore lint/suspicious/noThenProperty: this object stands in for postgres.js's awaitable query
      then: (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) =>
        bounded(query).then(onFulfilled, onRejected),
    };
  }) as unknown as typeof unsafe;
  return () => {
    waitedMs = 0;
  };
}

/** A statement that needs nothing but an answer: the health check's proof that the database is there. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}
