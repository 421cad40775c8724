/**
 * The request pipeline, top to bottom. Every middleware is wired here and nowhere else, so the
 * order in which a request meets them can be read in one place.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { echoResponder } from "./answers/echo";
import type { Responder } from "./answers/responder";
import { readConfig } from "./config";
import type { AppEnv } from "./context";
import { isDatabaseUnavailable } from "./db/errors";
import { ApiError, problemResponse } from "./http/problem";
import { accessLog } from "./middleware/access-log";
import { database } from "./middleware/database";
import { sessionHeader } from "./middleware/session";
import { chatRoutes } from "./routes/chat";
import { healthRoutes } from "./routes/health";
import { sessionRoutes } from "./routes/sessions";

export const maxBodyBytes = 64 * 1024;

export type AppOptions = {
  /** Chooses the answer generator for a request's environment; tests substitute their own. */
  responderFor?: (env: Env) => Responder;
};

export function createApp({ responderFor = () => echoResponder }: AppOptions = {}) {
  const app = new Hono<AppEnv>();

  app.use(requestId());
  app.use(accessLog());
  app.use(secureHeaders());
  app.use(
    cors({
      origin: (origin, c: Context<AppEnv>) => (readConfig(c.env).CORS_ORIGINS.includes(origin) ? origin : null),
      allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
      allowHeaders: ["Content-Type", "Accept", sessionHeader, "X-Request-Id"],
      exposeHeaders: [sessionHeader, "X-Request-Id", "Retry-After"],
      maxAge: 600,
    }),
  );
  app.use(
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new ApiError("payload_too_large", `the request body is larger than ${maxBodyBytes} bytes`);
      },
    }),
  );
  app.use(database());
  app.use(async (c, next) => {
    c.set("responder", responderFor(c.env));
    await next();
  });

  const routes = app
    .route("/health", healthRoutes)
    .route("/api/chat", chatRoutes)
    .route("/api/sessions", sessionRoutes);

  app.notFound((c) => {
    const allowed = allowedMethods(app, new URL(c.req.url).pathname);
    if (allowed.length === 0) throw new ApiError("not_found", "there is nothing at this path");
    throw new ApiError("method_not_allowed", `${c.req.method} is not allowed here; use ${allowed.join(", ")}`, {
      headers: { Allow: allowed.join(", ") },
    });
  });

  app.onError((error, c) => problemResponse(c, toApiError(error, c)));

  return routes;
}

function toApiError(error: Error, c: Context<AppEnv>): ApiError {
  if (error instanceof ApiError) {
    if (error.status >= 500) logFailure(c, error.code, error.cause);
    return error;
  }
  if (isDatabaseUnavailable(error)) {
    logFailure(c, "database_unavailable", error);
    return new ApiError("database_unavailable", "the database cannot be reached; try again shortly");
  }
  logFailure(c, "internal_error", error);
  return new ApiError("internal_error", "something went wrong on our side");
}

/** Logs the cause's kind and message only: Drizzle's messages hold SQL, so those are cut to the cause. */
function logFailure(c: Context<AppEnv>, code: string, cause: unknown) {
  const inner = cause instanceof Error && cause.name === "DrizzleQueryError" ? cause.cause : cause;
  const detail = inner instanceof Error ? `${inner.name}: ${inner.message}` : String(inner);
  console.error(JSON.stringify({ request_id: c.get("requestId"), code, cause: detail }));
}

/** The methods that do have a route at `path`, to tell 405 from 404. */
function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const pattern = new RegExp(`^${route.path.replace(/\/$/, "").replace(/:[^/]+/g, "[^/]+")}/?$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}
