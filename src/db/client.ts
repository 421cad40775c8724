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
    max: 5,
    // Skips the type-catalogue query on connect: one round trip less, and our columns need
    // only the built-in parsers.
    fetch_types: false,
    connect_timeout: Math.ceil(timeoutMs / 1000),
    onnotice: () => {},
  });
  boundEveryStatement(client, timeoutMs);
  return drizzle(client);
}

/**
 * Makes every statement sent through `client` (Drizzle sends all of them through `unsafe`) give
 * up after `timeoutMs`, connecting included. The database stops a long statement or lock wait by
 * itself (statement_timeout, lock_timeout); this is for a database or network that stops
 * answering, which nothing on the server side can bound. The Worker only stops waiting: cancelling
 * through Hyperdrive's pool is not documented, and could reach another client's statement.
 */
function boundEveryStatement(client: postgres.Sql, timeoutMs: number) {
  const unsafe = client.unsafe;
  const bounded = (query: Promise<unknown>) =>
    withDeadline(timeoutMs, () => query).catch((error: unknown) => {
      throw error instanceof DeadlineExceeded ? new DatabaseDeadlineExceeded(timeoutMs) : error;
    });
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
}
