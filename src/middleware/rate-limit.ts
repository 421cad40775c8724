import { createMiddleware } from "hono/factory";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { ApiError } from "../http/problem";
import { documented } from "../openapi/declarations";

/** The rate-limiting bindings of wrangler.toml, one per kind of request. */
type LimiterName =
  | "CHAT_RATE_LIMITER"
  | "SESSION_RATE_LIMITER"
  | "IMPORT_RATE_LIMITER"
  | "READ_RATE_LIMITER"
  | "FEEDBACK_RATE_LIMITER"
  | "ADMIN_RATE_LIMITER";

// The period of every limiter in wrangler.toml: the longest a refused client has to wait.
const periodSeconds = 60;

/**
 * Limits requests per client address with a Workers rate-limiting binding. Cloudflare sets
 * CF-Connecting-IP at its edge; where it is missing (local dev) all requests share one bucket,
 * which is why `npm run dev` turns the limits off (RATE_LIMITS=off).
 */
export const rateLimit = (name: LimiterName) =>
  documented(
    createMiddleware<AppEnv>(async (c, next) => {
      const limiter = c.env[name];
      if (limiter && readConfig(c.env).rateLimits) {
        const key = c.req.header("CF-Connecting-IP") ?? "local";
        if (!(await limiter.limit({ key })).success) {
          throw new ApiError("rate_limited", `too many requests; retry in ${periodSeconds} seconds`, {
            headers: { "Retry-After": String(periodSeconds) },
          });
        }
      }
      await next();
    }),
    { problems: ["rate_limited"], problemHeaders: { rate_limited: ["Retry-After"] } },
  );
