// The book's site for the readers' browser test (test/browser/readers.browser.mjs): Better Auth
// (test/fakes/issuer.ts) and the book's page on one origin, as a site serves its pages next to its
// sign-in, in a process of its own. Serves the files of the folder given as its argument
// (index.html also at /). Prints {"url": "http://127.0.0.1:PORT"} on stdout once it listens;
// stops on SIGTERM/SIGINT or when its stdin closes.
//
// Run with `node --experimental-strip-types` (Node 22 strips the issuer's types itself).
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { startIssuer } from "./issuer.ts";

const folder = process.argv[2];
if (!folder) throw new Error("usage: book-site.mjs <folder of the page's files>");

const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };
/** @type {Record<string, import("./issuer.ts").SitePage>} */
const pages = {};
for (const name of await readdir(folder)) {
  const type = types[/** @type {keyof typeof types} */ (path.extname(name))];
  if (type) pages[`/${name}`] = { type, body: await readFile(path.join(folder, name)) };
}
if (pages["/index.html"]) pages["/"] = pages["/index.html"];

const site = await startIssuer({ pages });
process.stdout.write(`${JSON.stringify({ url: site.url })}\n`);

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  void site.close().then(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The parent holds our stdin open; when it goes away, however it went, so do we.
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
