import { isDatabaseUnavailable } from "../db/errors";
import { ApiError } from "./problem";

/**
 * Turns anything thrown while serving a request into the ApiError the client sees, and logs
 * failures on our side. Only our own messages reach the client: Drizzle's hold SQL and
 * parameters, and upstream errors may hold URLs.
 */
export function toApiError(error: unknown, requestId: string): ApiError {
  if (error instanceof ApiError) {
    if (error.status >= 500) logFailure(requestId, error.code, error.cause);
    return error;
  }
  if (isDatabaseUnavailable(error)) {
    logFailure(requestId, "database_unavailable", error);
    return new ApiError("database_unavailable", "the database cannot be reached; try again shortly");
  }
  logFailure(requestId, "internal_error", error);
  return new ApiError("internal_error", "something went wrong on our side");
}

/** Logs the cause's kind and message; for Drizzle's errors the inner cause, never the SQL. */
function logFailure(requestId: string, code: string, cause: unknown) {
  const inner = cause instanceof Error && cause.name === "DrizzleQueryError" ? cause.cause : cause;
  const detail = inner instanceof Error ? `${inner.name}: ${inner.message}` : String(inner);
  console.error(JSON.stringify({ request_id: requestId, code, cause: detail }));
}
