import { createMiddleware } from "hono/factory";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { ApiError } from "../http/problem";

// The period of CHAT_RATE_LIMITER in wrangler.toml: the longest a refused client has to wait.
const periodSeconds = 60;

/**
 * Limits requests per client address with the Workers rate-limiting binding. Cloudflare sets
 * CF-Connecting-IP at its edge; where it is missing (local dev) all requests share one bucket,
 * which is why `npm run dev` turns the limit off (CHAT_RATE_LIMIT=off).
 */
export const rateLimit = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const limiter = c.env.CHAT_RATE_LIMITER;
    const key = c.req.header("CF-Connecting-IP") ?? "local";
    if (limiter && readConfig(c.env).rateLimit && !(await limiter.limit({ key })).success) {
      throw new ApiError("rate_limited", `too many requests; retry in ${periodSeconds} seconds`, {
        headers: { "Retry-After": String(periodSeconds) },
      });
    }
    await next();
  });
