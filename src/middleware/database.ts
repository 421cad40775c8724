import { createMiddleware } from "hono/factory";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { createDatabase } from "../db/client";

/** Gives each request its own database client (see createDatabase for why per request). */
export const database = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set("db", createDatabase(c.env.HYPERDRIVE.connectionString, readConfig(c.env).databaseTimeoutMs));
    await next();
  });
