import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";

const uuidInPath = /([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * One structured log line per request. Session UUIDs are bearer capabilities, so paths are
 * logged with only their first eight hex digits.
 */
export const accessLog = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = Date.now();
    await next();
    console.log(
      JSON.stringify({
        request_id: c.get("requestId"),
        method: c.req.method,
        path: new URL(c.req.url).pathname.replace(uuidInPath, "$1…"),
        status: c.res.status,
        ms: Date.now() - started,
      }),
    );
  });
