import { Hono } from "hono";
import type { AppEnv } from "../context";
import { notFound } from "../http/problem";
import { describeRoute } from "../openapi/declarations";
import { headers } from "../openapi/headers";
import { json } from "../openapi/schemas";
import swaggerUiVersion from "../vendor/swagger-ui/version.txt";

// The interactive reference is Swagger UI from the pinned swagger-ui-dist package, served from
// this origin under /docs/swagger-ui/, so the page needs nothing from any other origin. Swagger UI
// renders every operation of the document in the DOM.
const swaggerUi = "/docs/swagger-ui";

type SwaggerUiFile = { contentType: string; load: () => Promise<{ default: string | ArrayBuffer }> };

// Worker modules copied out of node_modules at install (scripts/docs-assets.mjs says why they are
// not static assets). Imported on first use, so that only a request for them loads 1.9 MB.
const swaggerUiFiles: Record<string, SwaggerUiFile> = {
  "swagger-ui-bundle.js": {
    contentType: "text/javascript; charset=utf-8",
    load: () => import("../vendor/swagger-ui/swagger-ui-bundle.js.txt"),
  },
  "swagger-ui.css": {
    contentType: "text/css; charset=utf-8",
    load: () => import("../vendor/swagger-ui/swagger-ui.css.txt"),
  },
  "favicon-32x32.png": {
    contentType: "image/png",
    load: () => import("../vendor/swagger-ui/favicon-32x32.png.bin"),
  },
};

// The files change only with the pinned package's version: a browser keeps them for a day, then
// asks again with If-None-Match and gets a 304 while the version is the same.
const swaggerUiEtag = `"swagger-ui-dist-${swaggerUiVersion.trim()}"`;

// validatorUrl: null, or Swagger UI shows a badge loaded from validator.swagger.io. The default
// BaseLayout has no top bar (the standalone preset's carries an inline <style>).
const startScript = `SwaggerUIBundle({ url: "/openapi.json", dom_id: "#reference", validatorUrl: null, deepLinking: true });`;

// Swagger UI replaces what #reference holds; without JavaScript that is what the reader gets.
const referencePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat history API reference</title>
<link rel="icon" type="image/png" href="${swaggerUi}/favicon-32x32.png">
<link rel="stylesheet" href="${swaggerUi}/swagger-ui.css">
</head>
<body>
<main id="reference">
<h1>Chat history API reference</h1>
<p>The HTTP API of the Humanoid Robotics Book's chat-history service. Its description, in OpenAPI 3.1, is
<a href="/openapi.json">/openapi.json</a>.</p>
<noscript><p>This page lists the operations with JavaScript only; without it, read <a href="/openapi.json">/openapi.json</a>.</p></noscript>
</main>
<script src="${swaggerUi}/swagger-ui-bundle.js"></script>
<script>${startScript}</script>
</body>
</html>`;

// Only this origin; the one inline script by its hash. Images may be data: URLs, which is how
// swagger-ui.css draws its icons.
let contentSecurityPolicy: Promise<string> | undefined;

async function policy(): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(startScript));
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
  return [
    "default-src 'none'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const entityTag = String.raw`(?:W/)?"[\x21\x23-\x7E\x80-\xFF]*"`;
const entityTagList = new RegExp(String.raw`^\s*(?:\*|${entityTag}(?:\s*,\s*${entityTag})*)\s*$`);

/**
 * Whether If-None-Match names `etag` (weakly, as RFC 9110 §13.1.2 compares), or is `*`. A header
 * that is not a list of entity tags names nothing, so the file is sent whole.
 */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined || !entityTagList.test(header)) return false;
  if (header.trim() === "*") return true;
  return [...header.matchAll(new RegExp(entityTag, "g"))].some(([tag]) => tag.replace(/^W\//, "") === etag);
}

const getRootDoc = describeRoute(() => ({
  operationId: "getRoot",
  tags: ["operations"],
  summary: "Sends a browser to the interactive reference, /docs",
  responses: { "302": { description: "The reference is at /docs", headers: headers("Location") } },
}));

const getOpenApiDocumentDoc = describeRoute(() => ({
  operationId: "getOpenApiDocument",
  tags: ["operations"],
  summary: "This description",
  responses: {
    "200": {
      description: "OpenAPI 3.1",
      headers: headers(),
      content: json({ type: "object", description: "An OpenAPI 3.1 document" }),
    },
  },
}));

const getDocsPageDoc = describeRoute(() => ({
  operationId: "getDocsPage",
  tags: ["operations"],
  summary: "An interactive reference of this description",
  responses: {
    "200": {
      description: "An HTML page",
      headers: headers("Content-Security-Policy"),
      content: { "text/html": { schema: { type: "string" } } },
    },
  },
}));

const getDocsPageFileDoc = describeRoute(() => ({
  operationId: "getDocsPageFile",
  tags: ["operations"],
  summary: "A file of the interactive reference: Swagger UI's script, styles or icon",
  parameters: [
    {
      name: "file",
      in: "path",
      required: true,
      description: "The file's name",
      schema: { type: "string", enum: Object.keys(swaggerUiFiles) },
    },
  ],
  responses: {
    "200": {
      description: "The file, from the pinned swagger-ui-dist package",
      headers: headers("Cache-Control", "ETag"),
      content: {
        "text/javascript": { schema: { type: "string" } },
        "text/css": { schema: { type: "string" } },
        "image/png": { schema: { type: "string", contentMediaType: "image/png" } },
      },
    },
    "304": {
      description: "The file has not changed since the version named in If-None-Match",
      headers: headers("Cache-Control", "ETag"),
    },
  },
  problems: ["not_found"],
}));

/** The reference and the document it reads, which the app generates from its own routes (src/app.ts). */
export const docsRoutes = (openApiDocument: () => Record<string, unknown>) =>
  new Hono<AppEnv>()
    // A newcomer's first request: the service has no page of its own, so it sends them to the reference.
    .get("/", getRootDoc, (c) => c.redirect("/docs", 302))
    .get("/openapi.json", getOpenApiDocumentDoc, (c) => c.json(openApiDocument()))
    .get("/docs", getDocsPageDoc, async (c) => {
      contentSecurityPolicy ??= policy();
      c.header("Content-Security-Policy", await contentSecurityPolicy);
      return c.html(referencePage);
    })
    .get(`${swaggerUi}/:file`, getDocsPageFileDoc, async (c) => {
      const name = c.req.param("file");
      const file = Object.hasOwn(swaggerUiFiles, name) ? swaggerUiFiles[name] : undefined;
      if (!file) throw notFound();
      c.header("Cache-Control", "public, max-age=86400");
      c.header("ETag", swaggerUiEtag);
      if (noneMatch(c.req.header("If-None-Match"), swaggerUiEtag)) return c.body(null, 304);
      c.header("Content-Type", file.contentType);
      return c.body((await file.load()).default);
    });
