import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Database = ReturnType<typeof createDatabase>;

/**
 * A client for one request. Workers may not share sockets across requests, so the client is made
 * per request and never at module scope; Hyperdrive pools the real connections to Postgres.
 * The client is never ended with `sql.end()`: on workerd that leaves an unhandled
 * "Stream was cancelled" rejection, and the sockets close with the request anyway.
 */
export function createDatabase(connectionString: string) {
  const client = postgres(connectionString, {
    max: 5,
    // Skips the type-catalogue query on connect: one round trip less, and our columns need
    // only the built-in parsers.
    fetch_types: false,
    // Bounded, so a database that is down answers 503 quickly instead of hanging.
    connect_timeout: 3,
    onnotice: () => {},
  });
  return drizzle(client, { schema });
}
