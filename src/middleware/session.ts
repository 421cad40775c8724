import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import type { SessionAccess } from "../db/fragments";
import { ApiError, fieldErrors, validationError } from "../http/problem";
import { documented } from "../openapi/declarations";
import { sessionPathParameter, uuidParameter } from "../openapi/parameters";
import { sessionPathSchema } from "../schemas/session";
import { uuidSchema } from "../schemas/uuid";
import { validate } from "./validate";

export const sessionHeader = "X-Session-Id";

/**
 * Resolves the session a request concerns: the `session_uuid` of the path or of the validated JSON
 * body, or the X-Session-Id header; the two must agree. With `issue`, a request without one gets
 * a fresh UUID (the server is the only issuer); its row is written with the first message.
 */
export const session = (options: { issue: boolean }) =>
  documented(
    createMiddleware<AppEnv>(async (c, next) => {
      const fromRequest = validatedSessionUuid(c.req as unknown as ValidatedRequest);
      const fromHeader = headerSessionUuid(c.req.header(sessionHeader));
      if (fromRequest && fromHeader && fromRequest !== fromHeader) {
        throw new ApiError("session_conflict", `session_uuid and the ${sessionHeader} header name different sessions`);
      }
      const known = fromRequest ?? fromHeader;
      if (!known && !options.issue) throw new ApiError("session_not_found", "no session was named");
      c.set("session", known ? { uuid: known, issued: false } : { uuid: crypto.randomUUID(), issued: true });
      await next();
    }),
    () => ({
      // With `issue`, a session the request names but no row holds is the route's to report.
      problems: ["validation_error", "session_conflict", ...(options.issue ? [] : ["session_not_found" as const])],
      pathParameters: [
        uuidParameter(
          sessionHeader,
          "header",
          "The session UUID; must agree with the one in the path or body (an empty header means none)",
        ),
      ],
    }),
  );

/** Validates the session UUID of a path ("/sessions/:session_uuid"). */
export const sessionPath = () =>
  documented(validate("param", sessionPathSchema), () => ({ pathParameters: [sessionPathParameter()] }));

/**
 * What the request may use of a session it names: a live one, anonymous or its signed-in
 * reader's (db/fragments.ts, SessionAccess).
 */
export function sessionAccess(c: Context): SessionAccess {
  // Any route's context: the reader middleware sets `reader` on every public route.
  const reader: AppEnv["Variables"]["reader"] | undefined = c.get("reader");
  return { retentionDays: readConfig(c.env).retentionDays, reader: reader ?? null };
}

/**
 * Names the session in the response's X-Session-Id, once it is known to exist. Not on a 404 or a
 * deletion: a client that keeps the header of every response would keep a dead session.
 */
export function nameSession(c: Context, sessionUuid: string): void {
  c.header(sessionHeader, sessionUuid);
}

function headerSessionUuid(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  // An empty header is what clients send for "no session yet"; treat it as absent.
  if (!trimmed) return undefined;
  const parsed = uuidSchema.safeParse(trimmed);
  if (!parsed.success) {
    throw validationError(fieldErrors(parsed.error.issues.map((issue) => ({ ...issue, path: [sessionHeader] }))));
  }
  return parsed.data;
}

type WithSessionUuid = { session_uuid?: string | null } | undefined;
// This middleware serves routes with different validators, so it reads them untyped.
type ValidatedRequest = { valid(target: "param" | "json"): WithSessionUuid };

/** From the validated path parameters or JSON body: already checked and lower-cased. */
function validatedSessionUuid(request: ValidatedRequest): string | undefined {
  return request.valid("param")?.session_uuid ?? request.valid("json")?.session_uuid ?? undefined;
}
