import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { createDatabase } from "../db/client";

/** Gives each request its own database client (see createDatabase for why per request). */
export const database = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set("db", createDatabase(c.env.HYPERDRIVE.connectionString));
    await next();
  });
