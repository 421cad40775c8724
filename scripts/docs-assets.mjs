// Copies the files of the /docs reference page from the pinned swagger-ui-dist package into
// src/vendor/swagger-ui/ (not in git), from where the Worker serves them (src/routes/docs.ts).
//
// They are Worker modules, not Workers static assets: with an [assets] directory every request
// passes through the asset router before it reaches the Worker, and for three files that only the
// docs page loads, that cost every API request 1 to 1.5 ms of CPU under `wrangler dev`
// (docs/benchmarks.md). The suffixes pick wrangler's default module rules, which the test pool
// shares: `.txt` becomes a Text module (a string), `.bin` a Data module (an ArrayBuffer).
// Only the three files the page uses are copied: the package also holds a demo index.html,
// ~10 MB of source maps and other bundles.
//
// Who runs it: the root package's `postinstall` (npm 11 runs the project's own lifecycle scripts,
// though not its dependencies'), so the files are there after `npm ci` or `npm install` on a fresh
// clone with no further step; and wrangler.toml's [build] command, so `wrangler dev` and
// `wrangler deploy` always bundle the version installed now, whatever was copied before.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Each file the page links to under /docs/swagger-ui/, and the module it is copied to. */
const FILES = {
  "swagger-ui-bundle.js": "swagger-ui-bundle.js.txt",
  "swagger-ui.css": "swagger-ui.css.txt",
  "favicon-32x32.png": "favicon-32x32.png.bin",
};
const VERSION_FILE = "version.txt";

const packageJson = createRequire(import.meta.url).resolve("swagger-ui-dist/package.json");
const source = path.dirname(packageJson);
const target = path.join(REPO_ROOT, "src", "vendor", "swagger-ui");
const { version } = JSON.parse(readFileSync(packageJson, "utf8"));

/**
 * Writes a file only if its content differs. Never removed first: a running `wrangler dev` or
 * test pool reads this folder, and may do so while another one's build runs this script. Never
 * rewritten unchanged either: `wrangler dev` runs this script again when a file under src/
 * changes, so a rewrite would start the next build, and so on without end.
 *
 * @param {string} file
 * @param {Buffer} content
 */
function writeIfChanged(file, content) {
  if (existsSync(file) && readFileSync(file).equals(content)) return;
  writeFileSync(file, content);
}

mkdirSync(target, { recursive: true });
for (const [file, module] of Object.entries(FILES)) {
  writeIfChanged(path.join(target, module), readFileSync(path.join(source, file)));
}
writeIfChanged(path.join(target, VERSION_FILE), Buffer.from(version));
const kept = [...Object.values(FILES), VERSION_FILE];
for (const file of readdirSync(target)) {
  if (!kept.includes(file)) rmSync(path.join(target, file), { recursive: true, force: true });
}
// The folder the files were served from as static assets before; an old clone may still have it.
rmSync(path.join(REPO_ROOT, "public", "docs"), { recursive: true, force: true });

console.error(`docs assets: swagger-ui-dist ${version} → ${path.relative(REPO_ROOT, target)}/`);
