/**
 * How a route and its middleware describe themselves for the OpenAPI document: each handler
 * function (a middleware, or the marker a route puts first in its chain) carries the part of the
 * operation it is responsible for, and src/openapi/document.ts merges the parts of every handler a
 * route's requests meet, in the order they meet them. Declarations are functions where building
 * them costs anything, so only the first request for /openapi.json pays for them.
 */
import type { MiddlewareHandler } from "hono";
import { except } from "hono/combine";
import type { ProblemCode } from "../http/problem";

export type Json = Record<string, unknown>;

/** A piece of an OpenAPI operation; every field is optional and the pieces are merged. */
export type OperationPart = {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  /** Parameters of this operation alone (e.g. its query). */
  parameters?: Json[];
  /**
   * Parameters that name what the path names (its path parameters, the session header): written
   * once on the path item when the path has parameters, else on the operation.
   */
  pathParameters?: Json[];
  requestBody?: Json;
  /** The successes, by status; the problems are listed in `problems`. */
  responses?: Json;
  security?: Json[];
  /** The problem codes it can answer with; src/openapi/problems.ts groups them by status. */
  problems?: readonly ProblemCode[];
  /** The headers it sends with a problem it raises (Retry-After of 503s comes with the code). */
  problemHeaders?: Partial<Record<ProblemCode, readonly string[]>>;
  /** What a problem means on this operation, where the code alone does not say it. */
  meaning?: Partial<Record<ProblemCode, string>>;
  /** The problems answered once this middleware let the request through carry Cache-Control: no-store. */
  noStoreProblems?: boolean;
};

type Declaration = OperationPart | (() => OperationPart);

// Keyed by the handler itself, so a middleware needs no wrapper and costs nothing more per request.
const declarations = new WeakMap<object, Declaration[]>();

/** Records what `handler` adds to the operations it runs for; returns the handler itself. */
export function documented<Handler extends object>(handler: Handler, declaration: Declaration): Handler {
  declarations.set(handler, [...(declarations.get(handler) ?? []), declaration]);
  return handler;
}

/**
 * The first handler of a route's chain: the route's own documentation (what it is, its request
 * body, its successes, the problems its handler raises). It only passes the request on.
 */
export function describeRoute(documentation: () => OperationPart): MiddlewareHandler {
  return documented(async (_c, next) => next(), documentation);
}

/** What a handler declared, in the order it was declared. */
export function declaredBy(handler: object): OperationPart[] {
  return (declarations.get(handler) ?? []).map((declaration) =>
    typeof declaration === "function" ? declaration() : declaration,
  );
}

const exceptions = new WeakMap<object, { paths: string[]; middleware: object }>();

/** hono/combine's `except`: the middleware, and what it declared, on every path but these. */
export function exceptOn(paths: string[], middleware: MiddlewareHandler): MiddlewareHandler {
  const combined = except(paths, middleware);
  exceptions.set(combined, { paths, middleware });
  return combined;
}

/** For a middleware wrapped by exceptOn: the middleware and the paths it skips. */
export function exceptionOf(handler: object): { paths: string[]; middleware: object } | undefined {
  return exceptions.get(handler);
}
