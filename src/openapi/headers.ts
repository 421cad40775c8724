/** The headers the document names: each described once, under components, and used by reference. */
import type { Json } from "./declarations";

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** Sent with every response (Hono's secureHeaders), and the request's id. */
const everyResponseHeaders: Record<string, { description: string; example: string }> = {
  "X-Request-Id": {
    description: "The request's id (the client's own if it was safe, docs/api.md §9)",
    example: "4f5c…",
  },
  "X-Content-Type-Options": { description: "Secure header", example: "nosniff" },
  "X-Frame-Options": { description: "Secure header", example: "SAMEORIGIN" },
  "Strict-Transport-Security": { description: "Secure header", example: "max-age=15552000; includeSubDomains" },
  "Referrer-Policy": { description: "Secure header", example: "no-referrer" },
  "Cross-Origin-Resource-Policy": { description: "Secure header", example: "same-origin" },
  "Cross-Origin-Opener-Policy": { description: "Secure header", example: "same-origin" },
  "Origin-Agent-Cluster": { description: "Secure header", example: "?1" },
  "X-DNS-Prefetch-Control": { description: "Secure header", example: "off" },
  "X-Download-Options": { description: "Secure header", example: "noopen" },
  "X-Permitted-Cross-Domain-Policies": { description: "Secure header", example: "none" },
  "X-XSS-Protection": { description: "Secure header", example: "0" },
};

export function componentHeaders(): Json {
  const uuid = { type: "string", format: "uuid" };
  return {
    ...Object.fromEntries(
      Object.entries(everyResponseHeaders).map(([name, { description, example }]) => [
        name,
        { description, required: true, schema: { type: "string" }, example },
      ]),
    ),
    "X-Session-Id": { description: "The session this response concerns; it exists", schema: uuid },
    "Retry-After": { description: "Seconds to wait before trying again", required: true, schema: { type: "integer" } },
    Allow: { description: "The methods this path does answer", required: true, schema: { type: "string" } },
    Accept: { description: "The body type this route takes", required: true, schema: { type: "string" } },
    "Accept-Encoding": {
      description: "The content codings this route takes: identity, when the request named another",
      schema: { type: "string", enum: ["identity"] },
    },
    "Content-Disposition": {
      description:
        "A download, with the file's name: chat-<the session UUID's first 8 characters>-<day>.json or .md for a conversation; " +
        "<list>-<UTC time, e.g. 20261207T174000Z>.csv for an admin list",
      required: true,
      schema: { type: "string" },
      example: 'attachment; filename="chat-6f1c1a52-2026-11-25.md"',
    },
    ETag: {
      description: "The version of the pinned swagger-ui-dist package the file comes from",
      required: true,
      schema: { type: "string" },
      example: '"swagger-ui-dist-5.35.0"',
    },
    "X-Vercel-AI-UI-Message-Stream": {
      description: "The AI SDK's UI message stream protocol and its version",
      required: true,
      schema: { type: "string", const: "v1" },
    },
    Location: { description: "Where the resource is", required: true, schema: { type: "string" }, example: "/docs" },
    "WWW-Authenticate": {
      description: 'How to authenticate (RFC 6750): Bearer realm="admin", with error="invalid_token" for a wrong token',
      required: true,
      schema: { type: "string" },
      example: 'Bearer realm="admin", error="invalid_token"',
    },
    "Cache-Control": {
      description:
        "no-store on the admin API's answers once the token is accepted (they hold conversations); " +
        "no-cache on a streamed answer (server-sent events, the UI message stream); " +
        "public, max-age=86400 on the docs page's files",
      schema: { type: "string" },
      example: "no-store",
    },
    "Content-Security-Policy": {
      description:
        "The page's policy: nothing from another origin; its inline script (and style) allowed by hash or by a nonce fresh for each response",
      required: true,
      schema: { type: "string" },
    },
  };
}

/** The headers of a response: those of every response, plus these. */
export function headers(...names: string[]): Json {
  return Object.fromEntries(
    [...Object.keys(everyResponseHeaders), ...names].map((name) => [name, headerRef(name)] as const),
  );
}
