import { Hono } from "hono";
import type { AppEnv } from "../context";
import { openApiDocument } from "../openapi";

// The interactive reference is Scalar's, loaded by the reader's browser; the Worker only serves
// this page and the document.
const referencePage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Chat history API</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
</body>
</html>`;

export const docsRoutes = new Hono<AppEnv>()
  .get("/openapi.json", (c) => c.json(openApiDocument()))
  .get("/docs", (c) => c.html(referencePage));
