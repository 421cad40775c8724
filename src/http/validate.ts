import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { ZodType } from "zod";
import { documented } from "../openapi/declarations";
import { queryParameters } from "../openapi/parameters";
import { ApiError, type FieldError } from "./problem";

type Issue = { path: PropertyKey[]; message: string };

export function fieldErrors(issues: readonly Issue[]): FieldError[] {
  return issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

export function validationError(errors: FieldError[]): ApiError {
  const [first] = errors;
  const detail = first ? `${first.path || "body"} ${first.message}` : "the request is not valid";
  return new ApiError("validation_error", detail, { errors });
}

/**
 * zValidator whose failures become `400 validation_error` problems with `errors[]`. A query's
 * parameters are documented from its schema; a body's schema is named by its route.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends ZodType>(
  target: Target,
  schema: Schema,
) {
  const validator = zValidator(target, schema, (result) => {
    if (!result.success) throw validationError(fieldErrors(result.error.issues));
  });
  return documented(validator, () => ({
    problems: ["validation_error"],
    ...(target === "query" ? { parameters: queryParameters(schema) } : {}),
  }));
}
