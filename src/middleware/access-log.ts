import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { toApiError } from "../http/error-handler";
import { logRequestFailure } from "../http/request-log";

/** Logs each request that ends in a problem, with how long it took (http/request-log.ts says what a line holds). */
export const accessLog = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const startedAt = Date.now();
    await next();
    if (c.error) logRequestFailure(c, toApiError(c.error), startedAt);
  });
