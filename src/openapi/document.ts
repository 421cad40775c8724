/**
 * The OpenAPI 3.1 description of the API, generated from the app itself: every route the app
 * registers is an operation, made of what its route declares (describeRoute, src/routes) and what
 * each middleware its requests meet declares (the problems it raises, the parameters it reads,
 * the security it checks), plus what every route of a kind can answer (below). Every operation
 * lists each status it can answer with and, on each response, the headers the service sends with
 * it; test/openapi.test.ts checks real responses against this document.
 */
import type { RouterRoute } from "hono/types";
import { findTargetHandler } from "hono/utils/handler";
import type { ProblemCode } from "../http/problem";
import { declaredBy, exceptionOf, type Json, type OperationPart } from "./declarations";
import { componentHeaders } from "./headers";
import { problems } from "./problems";
import { componentSchemas } from "./schemas";

/**
 * What no single middleware raises: a fault of ours, on every route (app.ts's onError); the
 * database's troubles (db/errors.ts), on every API route, all of which query it.
 */
function appWide(path: string): OperationPart[] {
  return [
    { problems: ["internal_error"] },
    ...(path.startsWith("/api/") ? [{ problems: ["database_unavailable", "database_timeout"] as const }] : []),
  ];
}

const documents = new WeakMap<object, Json>();

/** The document of an app; built on first use, once per app. */
export function openApiDocument(app: { routes: RouterRoute[] }): Json {
  let document = documents.get(app);
  if (!document) {
    document = buildDocument(app.routes);
    documents.set(app, document);
  }
  return document;
}

function buildDocument(routes: RouterRoute[]): Json {
  return {
    openapi: "3.1.0",
    info: {
      title: "Humanoid Robotics Book — chat history",
      version: "1.0.0",
      description:
        "Conversations of the book's Q&A chatbot: ask questions, read the history. Every error is an " +
        "RFC 9457 problem (application/problem+json) with a stable `code`. The contract in prose is " +
        "docs/api.md in the repository. CORS headers are sent to the origins the service is configured for.",
      license: { name: "UNLICENSED", identifier: "UNLICENSED" },
    },
    servers: [{ url: "/", description: "This service" }],
    security: [],
    tags: [
      { name: "chat", description: "Asking the chatbot" },
      { name: "sessions", description: "Conversations and their history" },
      { name: "operations", description: "Health and this description" },
      {
        name: "readers",
        description:
          "A signed-in reader's own conversations, on every device (docs/api.md §17). Needs the reader's token " +
          "from the book's sign-in as a bearer token; 401 without one.",
      },
      {
        name: "admin",
        description:
          "For the book's operators: every conversation, search, statistics. Exists only while the secret " +
          "ADMIN_TOKEN is set (404 otherwise); needs it as a bearer token; no CORS.",
      },
    ],
    components: {
      schemas: componentSchemas(),
      headers: componentHeaders(),
      securitySchemes: {
        readerToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A JWT the book's sign-in issued (e.g. Better Auth's JWT plugin), verified against AUTH_JWKS_URL, " +
            "AUTH_ISSUER and AUTH_AUDIENCE. Optional on every other public route: with it, new sessions are the reader's.",
        },
        adminToken: {
          type: "http",
          scheme: "bearer",
          description: "The service's ADMIN_TOKEN secret. It grants read access to every conversation.",
        },
      },
    },
    paths: paths(routes),
  };
}

/**
 * Every route's operation, from the parts of the handlers a request for it meets: the middleware
 * of app.use (method ALL) registered before it whose path covers it, then its own chain.
 */
function paths(routes: RouterRoute[]): Json {
  const middleware: { covers: (path: string) => boolean; handler: object }[] = [];
  const operations = new Map<string, { method: string; path: string; parts: OperationPart[] }>();
  for (const route of routes) {
    const handler = findTargetHandler(route.handler);
    if (route.method === "ALL") {
      const exception = exceptionOf(handler);
      const covers = covering(route.path);
      const skipped = (exception?.paths ?? []).map(covering);
      middleware.push({
        covers: (path) => covers(path) && !skipped.some((skips) => skips(path)),
        handler: exception?.middleware ?? handler,
      });
      continue;
    }
    const key = `${route.method} ${route.path}`;
    let operation = operations.get(key);
    if (!operation) {
      const before = middleware.filter((m) => m.covers(route.path)).flatMap((m) => declaredBy(m.handler));
      operation = { method: route.method, path: route.path, parts: [...appWide(route.path), ...before] };
      operations.set(key, operation);
    }
    operation.parts.push(...declaredBy(handler));
  }

  const items: Record<string, Json> = {};
  for (const { method, path, parts } of operations.values()) {
    const documentPath = path.replace(/:(\w+)/g, "{$1}");
    items[documentPath] ??= {};
    const item = items[documentPath];
    const { operation, pathParameters } = merge(parts);
    if (documentPath.includes("{")) {
      // Written once for the path, so every operation on it must name the same.
      if (item.parameters && JSON.stringify(item.parameters) !== JSON.stringify(pathParameters)) {
        throw new Error(`the operations of ${documentPath} disagree on the path's parameters`);
      }
      if (pathParameters.length > 0) item.parameters = pathParameters;
    } else if (pathParameters.length > 0) {
      operation.parameters = [...pathParameters, ...((operation.parameters as Json[] | undefined) ?? [])];
    }
    item[method.toLowerCase()] = operation;
  }
  return items;
}

/** One operation from its parts: problems and parameters gathered, the rest as the last part says. */
function merge(parts: OperationPart[]): { operation: Json; pathParameters: Json[] } {
  const codes = new Set<ProblemCode>();
  const options: OperationPart = {};
  const parameters: Json[] = [];
  const pathParameters = new Map<string, Json>();
  let fields: Json = { security: [] };
  let responses: Json = {};
  for (const part of parts) {
    const { problems: raised = [], problemHeaders, meaning, noStoreProblems, ...rest } = part;
    const { parameters: own = [], pathParameters: named = [], responses: successes = {}, ...described } = rest;
    for (const code of raised) codes.add(code);
    if (meaning) options.meaning = { ...options.meaning, ...meaning };
    for (const [code, names] of Object.entries(problemHeaders ?? {}) as [ProblemCode, string[]][]) {
      options.problemHeaders = {
        ...options.problemHeaders,
        [code]: [...(options.problemHeaders?.[code] ?? []), ...names],
      };
    }
    if (noStoreProblems) options.noStoreProblems = true;
    parameters.push(...own);
    for (const parameter of named) pathParameters.set(`${parameter.in} ${parameter.name}`, parameter);
    responses = { ...responses, ...successes };
    fields = { ...fields, ...described };
  }
  const operation: Json = {
    ...fields,
    ...(parameters.length > 0 ? { parameters } : {}),
    responses: { ...responses, ...problems(codes, options) },
  };
  return { operation, pathParameters: [...pathParameters.values()] };
}

/**
 * Whether a middleware's path covers a route's path, as the router matches them: "*" and "/*"
 * every path, "/prefix/*" the prefix and everything under it, anything else that path alone.
 */
function covering(pattern: string): (path: string) => boolean {
  if (pattern === "*" || pattern === "/*") return () => true;
  if (pattern.endsWith("/*")) {
    const prefix = pattern.slice(0, -2);
    return (path) => path === prefix || path.startsWith(`${prefix}/`);
  }
  return (path) => path === pattern;
}
