// Copies the files of the /docs reference page from the pinned swagger-ui-dist package into
// public/docs/swagger-ui/, which Workers static assets serve (wrangler.toml [assets]).
//
// Why a copy rather than pointing [assets] into node_modules/swagger-ui-dist: that folder also
// holds an index.html (the Petstore demo, which the asset router would serve at "/"), ~10 MB of
// source maps and other bundles, and every file in the assets directory is deployed. So the three
// files the page uses are copied, and nothing else.
//
// Who runs it: the root package's `postinstall` (npm 11 runs the project's own lifecycle scripts,
// though not its dependencies'), so the files are there after `npm ci` or `npm install` on a fresh
// clone with no further step; and wrangler.toml's [build] command, so `wrangler dev` and
// `wrangler deploy` always serve the version installed now, whatever was copied before.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** What src/routes/docs.ts links to, under /docs/swagger-ui/. */
const FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"];

const packageJson = createRequire(import.meta.url).resolve("swagger-ui-dist/package.json");
const source = path.dirname(packageJson);
const target = path.join(REPO_ROOT, "public", "docs", "swagger-ui");

// Overwritten in place, never removed first: a running `wrangler dev` or test pool serves this
// folder, and may do so while another one's build runs this script.
mkdirSync(target, { recursive: true });
for (const file of FILES) copyFileSync(path.join(source, file), path.join(target, file));
for (const file of readdirSync(target)) {
  if (!FILES.includes(file)) rmSync(path.join(target, file), { recursive: true, force: true });
}

const { version } = JSON.parse(readFileSync(packageJson, "utf8"));
console.error(`docs assets: swagger-ui-dist ${version} → ${path.relative(REPO_ROOT, target)}/`);
