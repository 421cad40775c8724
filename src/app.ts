/**
 * The request pipeline, top to bottom. Every middleware is wired here and nowhere else, so the
 * order in which a request meets them can be read in one place.
 */
import { type Context, Hono } from "hono";
import type { ApplyGlobalResponse } from "hono/client";
import { except } from "hono/combine";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { Responder } from "./answers/responder";
import { readConfig } from "./config";
import type { AppEnv } from "./context";
import { toApiError } from "./http/error-handler";
import { ApiError, type ClientProblemStatus, notFound, type Problem, problemResponse } from "./http/problem";
import { accessLog } from "./middleware/access-log";
import { adminAuth, adminEnabled } from "./middleware/admin";
import { answers } from "./middleware/answers";
import { database } from "./middleware/database";
import { rateLimit } from "./middleware/rate-limit";
import { reader } from "./middleware/reader";
import { sessionHeader } from "./middleware/session";
import { documented, exceptOn } from "./openapi/declarations";
import { openApiDocument } from "./openapi/document";
import { adminRoutes } from "./routes/admin";
import { adminPageRoutes } from "./routes/admin-page";
import { chatRoutes } from "./routes/chat";
import { docsRoutes } from "./routes/docs";
import { healthRoutes } from "./routes/health";
import { meRoutes } from "./routes/me";
import { sessionRoutes } from "./routes/sessions";
import { uiChatRoutes } from "./routes/ui-chat";

/**
 * The API's routes and their types, for Hono's typed client (`hc<AppType>`, see src/client.ts):
 * every route's success responses, plus the problems any route can answer with.
 */
export type AppType = ApplyGlobalResponse<
  ReturnType<typeof createApp>,
  { [Status in ClientProblemStatus]: { json: Problem } }
>;

/** The operators' API and page (docs/api.md §13): off without ADMIN_TOKEN, never open to CORS. */
const adminPaths = ["/api/admin", "/api/admin/*", "/admin", "/admin/*"];

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
  // The admin surface is for the operators' page on this origin only: no other origin gets a
  // CORS grant for it, not even one of CORS_ORIGINS, and a preflight finds nothing to allow.
  app.use(
    except(
      adminPaths,
      cors({
        origin: (origin, c: Context<AppEnv>) => (readConfig(c.env).corsOrigins.includes(origin) ? origin : null),
        allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        // Authorization: a signed-in reader's token (middleware/reader.ts).
        allowHeaders: ["Content-Type", "Accept", "Authorization", sessionHeader, "X-Request-Id"],
        exposeHeaders: [sessionHeader, "X-Request-Id", "Retry-After", "Content-Disposition"],
        maxAge: 600,
      }),
    ),
  );
  // Without ADMIN_TOKEN every admin path is 404. With it, the API counts each request against the
  // admin rate limit before it compares the token.
  for (const path of adminPaths) app.use(path, adminEnabled());
  app.use("/api/admin/*", rateLimit("ADMIN_RATE_LIMITER"), adminAuth());
  // Who the request's token says the reader is; the admin paths' Authorization is the admin token.
  app.use("/api/*", exceptOn(adminPaths, reader()));
  // Only the routes that use them pay for a database client and an answer generator.
  for (const path of ["/api/*", "/health"]) app.use(path, database());
  for (const path of ["/api/chat", "/api/ui/chat", "/health"]) app.use(path, answers(responderFor));

  // A path that names a fixed route ("/api/sessions/import") is that route's, whatever the method:
  // it is no session UUID for "/api/sessions/:session_uuid" to refuse with a 400.
  const allowedMethods = allowedMethodsOf(app);
  // With app.notFound below, every path answers 405 for a method it lacks.
  app.use(
    documented(
      createMiddleware<AppEnv>(async (c, next) => {
        const fixed = allowedMethods.fixed(c.req.path);
        if (fixed && !fixed.includes(c.req.method)) throw methodNotAllowed(c.req.method, fixed);
        await next();
      }),
      { problems: ["method_not_allowed"], problemHeaders: { method_not_allowed: ["Allow"] } },
    ),
  );

  const routes = app
    .route(
      "/",
      docsRoutes(() => openApiDocument(app)),
    )
    .route("/health", healthRoutes)
    .route("/api/chat", chatRoutes)
    .route("/api/sessions", sessionRoutes)
    .route("/api/ui/chat", uiChatRoutes)
    .route("/api/me", meRoutes)
    .route("/api/admin", adminRoutes)
    .route("/admin", adminPageRoutes);

  app.notFound((c) => {
    const allowed = allowedMethods.any(c.req.path);
    if (allowed.length === 0) throw notFound();
    throw methodNotAllowed(c.req.method, allowed);
  });

  app.onError((error, c) => problemResponse(c, toApiError(error)));

  return routes;
}

function methodNotAllowed(method: string, allowed: string[]): ApiError {
  return new ApiError("method_not_allowed", `${method} is not allowed here; use ${allowed.join(", ")}`, {
    headers: { Allow: allowed.join(", ") },
  });
}

/**
 * The methods that do have a route at a path, to tell 405 from 404; built once, on first use,
 * when every route is registered. `fixed` answers for a path that a route names without
 * parameters, and only with that route's methods; `any` answers for every path.
 */
function allowedMethodsOf(app: Hono<AppEnv>) {
  let built: { fixed: Map<string, string[]>; patterns: { method: string; pattern: RegExp }[] } | undefined;
  const build = () => {
    const routes = app.routes.filter((route) => route.method !== "ALL");
    const fixed = new Map<string, string[]>();
    for (const route of routes.filter((route) => !route.path.includes(":"))) {
      fixed.set(route.path, withHead([...(fixed.get(route.path) ?? []), route.method]));
    }
    const patterns = routes.map((route) => ({ method: route.method, pattern: routerPattern(route.path) }));
    return { fixed, patterns };
  };
  return {
    fixed(path: string): string[] | undefined {
      built ??= build();
      return built.fixed.get(path);
    },
    any(path: string): string[] {
      built ??= build();
      return built.fixed.get(path) ?? withHead(built.patterns.filter((r) => r.pattern.test(path)).map((r) => r.method));
    },
  };
}

function withHead(methods: string[]): string[] {
  const unique = new Set(methods);
  if (unique.has("GET")) unique.add("HEAD");
  return [...unique];
}

/**
 * The paths a route path matches, as the router matches them: strictly, so "/api/chat/" is
 * another path than "/api/chat", with `:name` standing for one segment and everything else
 * literal (the "." of "/openapi.json" included).
 */
function routerPattern(routePath: string): RegExp {
  const segments = routePath
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  return new RegExp(`^${segments.join("/")}$`);
}
