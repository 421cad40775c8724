/**
 * The request log: one JSON line per request that ends in a problem, saying why. Successful
 * requests write none: the platform's metrics count them (CPU, duration), and a console line was
 * the largest single item of a history read's CPU profile. The platform's own invocation log is
 * off (wrangler.toml): its message is the request's URL. A line names the route pattern, never the
 * path (session UUIDs are bearer capabilities), and describes errors by class, SQLSTATE and our own
 * words only: never SQL, its parameters, a question, a token or a key.
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { UpstreamError } from "../answers/upstream";
import { describeDatabaseError } from "../db/errors";
import { DeadlineExceeded } from "../deadline";
import { ApiError } from "./problem";

/**
 * For a request whose handling threw (middleware/access-log.ts). A client's mistake on a path that
 * matches no route (404, 405) writes none: it has no route and no cause to tell, scanners probing
 * paths would fill the log with it, and under `wrangler dev` the line cost 2 ms of the Worker
 * process's CPU, two thirds of what a bare Worker's whole request costs (docs/benchmarks.md).
 */
export function logRequestFailure(c: Context, failure: ApiError, startedAt: number) {
  const route = routePattern(c);
  if (route === null && failure.status < 500) return;
  writeLine(c, { status: c.res.status, ms: Date.now() - startedAt }, failure, route);
}

/** For a failure after the response has started (a streamed answer's `error` event, an export cut short). */
export function logStreamFailure(c: Context, failure: ApiError, startedAt: number) {
  writeLine(c, { status: c.res.status, ms: Date.now() - startedAt, stream: "error" }, failure, routePattern(c));
}

// Any route's context: the request id is set for every request by the first middleware.
function writeLine(c: Context, fields: Record<string, unknown>, failure: ApiError, route: string | null) {
  const line = JSON.stringify({
    request_id: c.get("requestId"),
    method: c.req.method,
    route,
    ...fields,
    code: failure.code,
    cause: describeCause(failure.cause),
  });
  // Errors are ours (5xx) or a client that left (499); the rest are the clients' mistakes.
  if (failure.status >= 500 || failure.status === 499) console.error(line);
  else console.warn(line);
}

/** The pattern of the route that answered ("/api/sessions/:session_uuid"); null when none did. */
function routePattern(c: Context): string | null {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    if (routes[i]!.method !== "ALL") return routes[i]!.path;
  }
  return null;
}

function describeCause(cause: unknown): Record<string, unknown> | undefined {
  if (cause === undefined) return undefined;
  const database = describeDatabaseError(cause);
  if (database) return database;
  // Our own messages, written to name no URL, key or text of the reader's.
  if (cause instanceof UpstreamError || cause instanceof DeadlineExceeded) {
    return { error: cause.name, reason: cause.message };
  }
  if (cause instanceof ApiError) return { error: cause.name, code: cause.code };
  // Anything else is unexpected: its class, and where it was thrown, but not its message.
  const stackTop = cause instanceof Error ? cause.stack?.split("\n")[1]?.trim() : undefined;
  return { error: cause instanceof Error ? cause.name : typeof cause, ...(stackTop ? { at: stackTop } : {}) };
}
