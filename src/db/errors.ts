import { DrizzleQueryError } from "drizzle-orm/errors";

/**
 * What a failed statement means for the caller, and what of it may be logged. Drizzle wraps
 * every failure in DrizzleQueryError, whose message holds the SQL and its parameters (questions,
 * session UUIDs), so neither that message nor the error itself may reach a response or a log.
 * The cause is a PostgresError with a SQLSTATE `code` when the server answered, or postgres.js's
 * network error (a `code` such as CONNECT_TIMEOUT) when it could not be reached.
 */
type PostgresError = Error & { name: "PostgresError"; code: string; constraint_name?: string };

function causeOf(error: unknown): unknown {
  return error instanceof DrizzleQueryError ? error.cause : error;
}

function serverErrorOf(error: unknown): PostgresError | undefined {
  const cause = causeOf(error);
  return cause instanceof Error && cause.name === "PostgresError" ? (cause as PostgresError) : undefined;
}

export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const serverError = serverErrorOf(error);
  return serverError?.code === "23505" && serverError.constraint_name === constraint;
}

/** The request waited on the database for its whole DB_TIMEOUT_MS and stopped waiting. */
export class DatabaseDeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`the request waited ${ms} ms for the database in all`);
    this.name = "DatabaseDeadlineExceeded";
  }
}

// 57014 query_canceled (statement_timeout), 55P03 lock_not_available (lock_timeout).
const timeoutStates = ["57014", "55P03"];
// SQLSTATE classes that mean "the database is not available now", not "the statement is wrong":
// 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown).
const unavailableClasses = ["08", "53", "57"];

/**
 * `timeout`: the database took longer than we allow. `unavailable`: it could not be reached or
 * refused to work (down, restarting, out of connections). Null: not a failure of the database
 * itself (a bug, a constraint).
 */
export function databaseFailureKind(error: unknown): "timeout" | "unavailable" | null {
  if (causeOf(error) instanceof DatabaseDeadlineExceeded) return "timeout";
  if (!(error instanceof DrizzleQueryError)) return null;
  const serverError = serverErrorOf(error);
  if (!serverError) return "unavailable"; // no answer from the server: refused, reset or timed out
  if (timeoutStates.includes(serverError.code)) return "timeout";
  return unavailableClasses.some((prefix) => serverError.code.startsWith(prefix)) ? "unavailable" : null;
}

export type LoggedDatabaseError = { error: string; sqlstate?: string; constraint?: string; reason?: string };

/**
 * What a log line may say about a database error: its class, SQLSTATE and constraint, and the
 * server's own words only for the classes whose messages carry no data ("sorry, too many clients
 * already", "terminating connection due to administrator command"). Other messages can quote a
 * value ("invalid input syntax for type uuid: …") and are left out. Null: not a database error.
 */
export function describeDatabaseError(error: unknown): LoggedDatabaseError | null {
  const cause = causeOf(error);
  if (cause instanceof DatabaseDeadlineExceeded) return { error: cause.name, reason: cause.message };
  if (!(error instanceof DrizzleQueryError)) return null;
  const serverError = serverErrorOf(error);
  if (serverError) {
    const quotable = unavailableClasses.some((prefix) => serverError.code.startsWith(prefix));
    return {
      error: "PostgresError",
      sqlstate: serverError.code,
      ...(serverError.constraint_name ? { constraint: serverError.constraint_name } : {}),
      ...(quotable ? { reason: serverError.message } : {}),
    };
  }
  // postgres.js's network errors name the host and port in their message; the code says enough.
  const code = (cause as { code?: unknown } | undefined)?.code;
  return {
    error: cause instanceof Error ? cause.name : "unknown",
    reason: typeof code === "string" ? code : cause instanceof Error ? networkReason(cause.message) : "unknown",
  };
}

/** workerd's socket errors ("Network connection lost.", "Stream was cancelled.") name no address. */
function networkReason(message: string): string {
  return /^[\w ,.'-]{1,80}$/.test(message) ? message : "connection failed";
}
