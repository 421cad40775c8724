import { createMiddleware } from "hono/factory";
import { verifyReaderToken } from "../auth/token";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { bearerToken } from "../http/bearer";
import { invalidToken } from "../http/problem";
import { documented } from "../openapi/declarations";

/**
 * Sets `c.var.reader`: the signed-in reader an `Authorization: Bearer <JWT>` names, or null for an
 * anonymous request. Without the AUTH_* settings the service is anonymous-only and the header is
 * not read at all. With them, a header that is present must hold a valid token: anything else is
 * `401 invalid_token`, never anonymous access. Not for the admin paths, whose Authorization holds
 * the admin token (src/app.ts).
 */
export const reader = () =>
  documented(
    createMiddleware<AppEnv>(async (c, next) => {
      const auth = readConfig(c.env).auth;
      const header = c.req.header("Authorization");
      if (!auth || header === undefined) {
        c.set("reader", null);
      } else {
        const token = bearerToken(header);
        if (token === null) throw invalidToken('the Authorization header must be "Bearer <token>"');
        c.set("reader", await verifyReaderToken(token, auth));
      }
      await next();
    }),
    { problems: ["invalid_token", "auth_unavailable"], problemHeaders: { invalid_token: ["WWW-Authenticate"] } },
  );
