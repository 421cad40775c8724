import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ApiError } from "../http/problem";

const jsonMediaType = /^application\/([\w.-]+\+)?json$/i;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Requires a JSON body and parses it once, for the validator after it. Decoding is strict: a body
 * that is not valid UTF-8 is refused rather than stored with U+FFFD in place of what was sent.
 */
export const jsonBody = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
    if (!jsonMediaType.test(mediaType)) {
      throw new ApiError("unsupported_media_type", "the request body must be application/json", {
        headers: { Accept: "application/json" },
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(utf8.decode(await c.req.arrayBuffer()));
    } catch {
      throw new ApiError("invalid_json", "the request body is not well-formed UTF-8 JSON");
    }
    c.req.bodyCache.json = Promise.resolve(body);
    await next();
  });
