import { Hono } from "hono";
import type { AppEnv } from "../context";
import { openApiDocument } from "../openapi";

// The interactive reference is Swagger UI from the pinned swagger-ui-dist package, served from
// this origin as static assets under /docs/swagger-ui/ (wrangler.toml [assets]), so the page needs
// nothing from any other origin. Swagger UI renders every operation of the document in the DOM.
const swaggerUi = "/docs/swagger-ui";

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

export const docsRoutes = new Hono<AppEnv>()
  .get("/openapi.json", (c) => c.json(openApiDocument()))
  .get("/docs", async (c) => {
    contentSecurityPolicy ??= policy();
    c.header("Content-Security-Policy", await contentSecurityPolicy);
    return c.html(referencePage);
  });
