import { DrizzleQueryError } from "drizzle-orm/errors";

/**
 * What a failed statement means for the caller. Drizzle wraps every failure in DrizzleQueryError
 * (whose message holds the SQL and parameters, so it must never reach a response); the cause is
 * a PostgresError with a SQLSTATE `code` when the server answered, or a network error when it
 * could not be reached.
 */
type PostgresError = Error & { name: "PostgresError"; code: string; constraint_name?: string };

function serverErrorOf(error: DrizzleQueryError): PostgresError | undefined {
  const cause = error.cause;
  return cause instanceof Error && cause.name === "PostgresError" ? (cause as PostgresError) : undefined;
}

export function isUniqueViolation(error: unknown, constraint: string): boolean {
  if (!(error instanceof DrizzleQueryError)) return false;
  const serverError = serverErrorOf(error);
  return serverError?.code === "23505" && serverError.constraint_name === constraint;
}

// SQLSTATE classes that mean "the database is not available now", not "the statement is wrong":
// 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown).
const unavailableClasses = ["08", "53", "57"];

/** True for failures of the database itself (unreachable, shutting down, out of connections). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof DrizzleQueryError)) return false;
  const serverError = serverErrorOf(error);
  if (!serverError) return true; // no answer from the server: refused, reset or timed out
  return unavailableClasses.some((prefix) => serverError.code.startsWith(prefix));
}
