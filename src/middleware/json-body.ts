import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ApiError } from "../http/problem";
import { documented } from "../openapi/declarations";

const jsonMediaType = /^application\/([\w.-]+\+)?json$/i;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The body limit of routes that do not say otherwise. */
export const defaultMaxBodyBytes = 64 * 1024;

type JsonBodyOptions = {
  /** Larger bodies are refused with 413 before they are parsed (and mostly before they are read). */
  maxBytes?: number;
  /** No body at all is also fine; a body that is there must still be JSON. */
  optional?: boolean;
};

/**
 * Requires a JSON body of at most `maxBytes` and parses it once, for the validator after it.
 * Decoding is strict: a body that is not valid UTF-8 is refused rather than stored with U+FFFD in
 * place of what was sent. Requiring application/json also keeps cross-site HTML forms out: a form
 * can only send urlencoded, multipart or text/plain bodies.
 */
export const jsonBody = ({ maxBytes = defaultMaxBodyBytes, optional = false }: JsonBodyOptions = {}) =>
  documented(
    createMiddleware<AppEnv>(async (c, next) => {
      const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
      if (optional && mediaType === "" && !hasBody(c.req.raw)) return next();
      if (!jsonMediaType.test(mediaType)) {
        throw new ApiError("unsupported_media_type", "the request body must be application/json", {
          headers: { Accept: "application/json" },
        });
      }
      if (!isIdentity(c.req.header("Content-Encoding"))) {
        throw new ApiError("unsupported_media_type", "the request body must not be compressed (Content-Encoding)", {
          headers: { Accept: "application/json", "Accept-Encoding": "identity" },
        });
      }
      const bytes = await readBody(c.req.raw, maxBytes);
      if (optional && bytes.byteLength === 0) return next();
      let body: unknown;
      try {
        body = JSON.parse(utf8.decode(bytes));
      } catch {
        throw new ApiError("invalid_json", "the request body is not well-formed UTF-8 JSON");
      }
      c.req.bodyCache.json = Promise.resolve(body);
      await next();
    }),
    {
      problems: ["invalid_json", "payload_too_large", "unsupported_media_type"],
      problemHeaders: { unsupported_media_type: ["Accept", "Accept-Encoding"] },
    },
  );

/**
 * Bodies are taken as sent, uncompressed: the runtime passes a compressed body on as it came, and
 * reading gzip as JSON would be a misleading 400, reading an unknown coding as plain a guess.
 * RFC 9110 §15.5.16: 415, with Accept-Encoding naming the codings that are taken.
 */
function isIdentity(contentEncoding: string | undefined): boolean {
  if (contentEncoding === undefined) return true;
  return contentEncoding.split(",").every((coding) => ["", "identity"].includes(coding.trim().toLowerCase()));
}

function hasBody(request: Request): boolean {
  return request.body !== null && request.headers.get("Content-Length") !== "0";
}

/** The whole body, or 413 as soon as it is known to be too large, or 499 if the client left. */
async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("Content-Length") ?? 0);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw new ApiError("client_closed_request", "the client went away before its request body arrived", {
        cause: error,
      });
    }
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk.value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError("payload_too_large", `the request body is larger than ${maxBytes} bytes`);
}
