import { databaseFailureKind } from "../db/errors";
import { ApiError } from "./problem";

/**
 * Turns anything thrown while serving a request into the ApiError the client sees. Only our own
 * messages reach the client: Drizzle's hold SQL and parameters, and upstream errors may hold URLs.
 * The original error stays the cause, for the request log (http/request-log.ts).
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  switch (databaseFailureKind(error)) {
    case "timeout":
      return new ApiError("database_timeout", "the database did not answer in time; try again shortly", {
        cause: error,
      });
    case "unavailable":
      return new ApiError("database_unavailable", "the database cannot be reached; try again shortly", {
        cause: error,
      });
    case null:
      return new ApiError("internal_error", "something went wrong on our side", { cause: error });
  }
}
