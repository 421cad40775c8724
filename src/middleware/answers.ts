import { createMiddleware } from "hono/factory";
import type { Responder } from "../answers/responder";
import { answerSetup } from "../answers/select";
import { readConfig } from "../config";
import type { AppEnv } from "../context";

/**
 * Gives the request the answer generator its environment configures, or the reason there is none
 * (answers/select.ts). `responderFor` replaces the configured one: tests substitute their own.
 */
export const answers = (responderFor?: (env: Env) => Responder) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const responder = responderFor?.(c.env);
    c.set(
      "answers",
      responder ? { provider: responder.name, responder, problem: null } : answerSetup(readConfig(c.env).answer),
    );
    await next();
  });
