import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { ZodType } from "zod";
import { fieldErrors, validationError } from "../http/problem";
import { documented } from "../openapi/declarations";
import { queryParameters } from "../openapi/parameters";

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
