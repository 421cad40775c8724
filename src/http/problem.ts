import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";

/** Every problem code of docs/api.md §7, with the status it always has. */
export const problemStatus = {
  invalid_json: 400,
  validation_error: 400,
  session_conflict: 400,
  unauthorized: 401,
  invalid_token: 401,
  session_not_found: 404,
  message_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  idempotency_conflict: 409,
  not_an_answer: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  // nginx's "client closed request": the client left before its request was read. No client
  // sees it; it keeps such requests out of the 5xx error rate in the logs.
  client_closed_request: 499,
  internal_error: 500,
  answer_failed: 502,
  database_unavailable: 503,
  database_timeout: 503,
  answer_unavailable: 503,
  auth_unavailable: 503,
  retrieval_unavailable: 503,
  answer_timeout: 504,
} as const satisfies Record<string, ContentfulStatusCode | 499>;

export type ProblemCode = keyof typeof problemStatus;

/** The statuses a client can receive a problem with (499 is only ever logged). */
export type ClientProblemStatus = Exclude<(typeof problemStatus)[ProblemCode], 499>;

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  499: "Client Closed Request",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export type FieldError = { path: string; message: string };

export type ProblemOptions = {
  errors?: FieldError[];
  /** Extra members of the problem object: `session_uuid` when a turn's question is kept. */
  extensions?: { session_uuid?: string };
  headers?: Record<string, string>;
  cause?: unknown;
};

/**
 * How long a client should wait before trying again, sent as Retry-After. The database's
 * troubles (a restart, Neon waking a suspended compute, a burst of connections) pass in seconds;
 * a missing model configuration needs an operator.
 */
export const retryAfterSeconds: Partial<Record<ProblemCode, number>> = {
  database_unavailable: 2,
  database_timeout: 2,
  answer_unavailable: 300,
  auth_unavailable: 30,
  retrieval_unavailable: 30,
};

/** The one error type of the service: whatever is thrown ends up as one of these. */
export class ApiError extends Error {
  readonly status: (typeof problemStatus)[ProblemCode];

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly options: ProblemOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = "ApiError";
    this.status = problemStatus[code];
  }
}

type Issue = { path: PropertyKey[]; message: string };

/** A schema's issues as the problem's `errors[]`: each path joined with dots. */
export function fieldErrors(issues: readonly Issue[]): FieldError[] {
  return issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

export function validationError(errors: FieldError[]): ApiError {
  const [first] = errors;
  const detail = first ? `${first.path || "body"} ${first.message}` : "the request is not valid";
  return new ApiError("validation_error", detail, { errors });
}

export function sessionNotFound(): ApiError {
  return new ApiError("session_not_found", "no session with this session_uuid exists; start a new conversation");
}

export function messageNotFound(): ApiError {
  return new ApiError("message_not_found", "this session holds no message with this id");
}

export function notAnAnswer(): ApiError {
  return new ApiError("not_an_answer", "only the chatbot's answers take feedback; this message is a question");
}

/**
 * A request to the admin API without the admin token (error null) or with a wrong one: the
 * challenge of RFC 6750 says how to authenticate, and, for a wrong token, that it was wrong.
 */
export function unauthorized(detail: string, error: "invalid_token" | null): ApiError {
  const challenge = `Bearer realm="admin"${error ? `, error="${error}"` : ""}`;
  return new ApiError("unauthorized", detail, { headers: { "WWW-Authenticate": challenge } });
}

/**
 * A reader's token that is present but not valid (RFC 6750 §3.1). Never served as anonymous: a
 * client that sent a token expects to act as the reader it names, and served as nobody it would
 * not notice, e.g. that the conversation it starts belongs to no one.
 */
export function invalidToken(detail: string, cause?: unknown): ApiError {
  return new ApiError("invalid_token", detail, {
    headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
    cause,
  });
}

/**
 * The issuer's keys cannot be had, so a token can be neither accepted nor refused. Retry-After is
 * when the next fetch of the key set may be tried (src/auth/key-set.ts).
 */
export function authUnavailable(retryAfter: number, cause?: unknown): ApiError {
  return new ApiError("auth_unavailable", "the sign-in provider's keys cannot be fetched; try again shortly", {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfter))) },
    cause,
  });
}

/**
 * Qdrant's collection could not be listed (the passages never cited, docs/api.md §13.11): it is
 * unreachable, answered with an error or with no list of points, or not in time.
 */
export function retrievalUnavailable(cause?: unknown): ApiError {
  return new ApiError(
    "retrieval_unavailable",
    "the passages' collection (Qdrant) cannot be listed; try again shortly",
    {
      cause,
    },
  );
}

/** What a request with no path of its own gets; also every admin path while the admin API is off. */
export function notFound(): ApiError {
  return new ApiError("not_found", "there is nothing at this path");
}

/** The problem object every error is answered with (RFC 9457, docs/api.md §7). */
export const problemSchema = z.object({
  type: z.literal("about:blank"),
  title: z.string(),
  status: z.number().int(),
  code: z.enum(Object.keys(problemStatus) as [ProblemCode, ...ProblemCode[]]),
  detail: z.string(),
  errors: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .optional()
    .describe("On validation_error: each invalid field"),
  request_id: z.string().describe("The response's X-Request-Id"),
  session_uuid: z
    .string()
    .optional()
    .describe("When the question of a turn is stored but not answered: retry in this session"),
});

export type Problem = z.infer<typeof problemSchema>;

export function toProblem(error: ApiError, requestId: string): Problem {
  return {
    ...error.options.extensions,
    type: "about:blank",
    title: titles[error.status] ?? "Error",
    status: error.status,
    code: error.code,
    detail: error.detail,
    ...(error.options.errors ? { errors: error.options.errors } : {}),
    request_id: requestId,
  };
}

export function problemResponse(c: Context, error: ApiError): Response {
  const retryAfter = retryAfterSeconds[error.code];
  const headers: Record<string, string> = {
    ...(retryAfter === undefined ? {} : { "Retry-After": String(retryAfter) }),
    ...error.options.headers,
    "Content-Type": "application/problem+json",
  };
  // 499 is not a status Hono knows; workerd sends any status from 200 to 599.
  const status = error.status as ContentfulStatusCode;
  return c.body(JSON.stringify(toProblem(error, c.get("requestId") ?? "")), status, headers);
}
