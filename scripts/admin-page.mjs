// Bundles the operators' page's script (src/admin/page/*.ts, browser code) with esbuild into
// src/admin/page-script.js.txt (not in git), a Text module that src/routes/admin-page.tsx imports
// and sends inline with the request's CSP nonce: the page loads no script from a URL.
//
// Who runs it, so that every way of running the Worker gets a bundle of the source as it is now:
// - the root package's `postinstall`, after `npm ci`/`npm install` on a fresh clone (with
//   scripts/docs-assets.mjs), so the Text module exists before tsc, Biome or anything else runs;
// - wrangler.toml's [build] command, which `wrangler dev` (`npm run dev`, `npm run test:browser`)
//   runs before it builds and again on every change under src/, and `wrangler deploy` (also
//   `--dry-run`) before it bundles;
// - test/global-setup.ts, before the test pool starts and before each rerun in watch mode: the
//   Workers vitest plugin does not run [build] commands (a scratch try showed it never did).
// It always builds from the source (about 20 ms), never trusts a bundle that is there already, so
// none of these can serve a stale one.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = path.join(REPO_ROOT, "src", "admin", "page", "main.ts");
export const ADMIN_PAGE_BUNDLE = path.join(REPO_ROOT, "src", "admin", "page-script.js.txt");

/**
 * Builds the page's script and writes it only if it changed: `wrangler dev` watches src/ and runs
 * this again on a change there, so a rewrite of the same bytes would start the next build, and so
 * on without end (scripts/docs-assets.mjs does the same).
 *
 * @returns {Promise<boolean>} whether the file changed
 */
export async function buildAdminPageScript() {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    // One classic script, its names kept out of the page's global scope.
    format: "iife",
    platform: "browser",
    // The browsers an operator uses; the page already needs Trusted Types (Chromium) to be safe
    // from its data, and the policy holds in the others because nothing calls an HTML sink.
    target: "es2022",
    minify: true,
    legalComments: "none",
    // esbuild writes "</script" inside strings as "<\/script" for an inline script; kept on.
    supported: { "inline-script": true },
    logLevel: "error",
  });
  // One entry point, written to memory: exactly one output file.
  const [output] = result.outputFiles;
  if (!output) throw new Error("admin page: esbuild wrote no bundle");
  const text = output.text;
  // Either would end the inline <script> early or change how the HTML parser reads the rest.
  if (/<\/script|<!--/i.test(text)) throw new Error("admin page: the bundle holds </script or <!--");
  const bundle = Buffer.from(text);
  if (existsSync(ADMIN_PAGE_BUNDLE) && readFileSync(ADMIN_PAGE_BUNDLE).equals(bundle)) return false;
  writeFileSync(ADMIN_PAGE_BUNDLE, bundle);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const changed = await buildAdminPageScript();
  console.error(
    `admin page: src/admin/page/ → ${path.relative(REPO_ROOT, ADMIN_PAGE_BUNDLE)}${changed ? "" : " (unchanged)"}`,
  );
}
