// `npm run openapi:lint`: builds the OpenAPI document the Worker serves at /openapi.json, writes it
// to .data/openapi.json, validates it against the OpenAPI 3.1 schema with an independent validator
// (@seriousme/openapi-schema-validator), then lints it with Redocly's recommended rules
// (redocly.yaml says why each remaining warning is there). Exits non-zero on any error.
import { execFileSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { build } from "esbuild";
import { REPO_ROOT } from "./local-database.mjs";

const out = path.join(REPO_ROOT, ".data", "openapi.json");
const bundle = path.join(REPO_ROOT, ".data", "openapi-document.mjs");

// The document is pure data built from the app's routes and the zod schemas; bundling the app
// for Node gives exactly what the Worker serves, without starting it.
await mkdir(path.dirname(out), { recursive: true });
await build({
  stdin: {
    contents: [
      'import { createApp } from "./src/app";',
      'import { openApiDocument } from "./src/openapi/document";',
      "export default openApiDocument(createApp());",
    ].join("\n"),
    resolveDir: REPO_ROOT,
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: bundle,
  // The docs page's Swagger UI files, as wrangler's default module rules load them.
  loader: { ".txt": "text", ".bin": "binary" },
  logLevel: "error",
});
const { default: document } = await import(bundle);
await rm(bundle);
await writeFile(out, `${JSON.stringify(document, null, 2)}\n`);
console.log(`openapi:lint: wrote ${path.relative(REPO_ROOT, out)}`);

const result = await new Validator().validate(document);
if (!result.valid) {
  console.error("openapi:lint: not a valid OpenAPI 3.1 document:");
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
console.log("openapi:lint: valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)");

try {
  execFileSync(path.join(REPO_ROOT, "node_modules", ".bin", "redocly"), ["lint", out], {
    cwd: REPO_ROOT,
    stdio: "inherit",
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  });
} catch {
  process.exit(1);
}
