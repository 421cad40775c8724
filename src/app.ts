/**
 * The request pipeline, top to bottom. Every middleware is wired here and nowhere else, so the
 * order in which a request meets them can be read in one place.
 */
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { Responder } from "./answers/responder";
import { answerSetup } from "./answers/select";
import { readConfig } from "./config";
import type { AppEnv } from "./context";
import { toApiError } from "./http/error-handler";
import { ApiError, problemResponse } from "./http/problem";
import { accessLog } from "./middleware/access-log";
import { database } from "./middleware/database";
import { sessionHeader } from "./middleware/session";
import { chatRoutes } from "./routes/chat";
import { docsRoutes } from "./routes/docs";
import { healthRoutes } from "./routes/health";
import { sessionRoutes } from "./routes/sessions";

export type AppOptions = {
  /** Chooses the answer generator for a request's environment; tests substitute their own. */
  responderFor?: (env: Env) => Responder;
};

export function createApp({ responderFor }: AppOptions = {}) {
  const app = new Hono<AppEnv>();

  // A client may name its request for tracing, in at most 64 characters of [A-Za-z0-9_=-].
  app.use(requestId({ limitLength: 64 }));
  app.use(accessLog());
  app.use(secureHeaders());
  app.use(
    cors({
      origin: (origin, c: Context<AppEnv>) => (readConfig(c.env).corsOrigins.includes(origin) ? origin : null),
      allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
      allowHeaders: ["Content-Type", "Accept", sessionHeader, "X-Request-Id"],
      exposeHeaders: [sessionHeader, "X-Request-Id", "Retry-After"],
      maxAge: 600,
    }),
  );
  app.use(database());
  app.use(async (c, next) => {
    const responder = responderFor?.(c.env);
    c.set(
      "answers",
      responder ? { provider: responder.name, responder, problem: null } : answerSetup(readConfig(c.env).answer),
    );
    await next();
  });

  const routes = app
    .route("/", docsRoutes)
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

  app.onError((error, c) => problemResponse(c, toApiError(error)));

  return routes;
}

/** The methods that do have a route at `path`, to tell 405 from 404. */
function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    // Same matching as the router: strict, so "/api/chat/" is another path than "/api/chat".
    const pattern = new RegExp(`^${route.path.replace(/:[^/]+/g, "[^/]+")}$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}
