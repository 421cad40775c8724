// `npm run build:client`: the typed client (src/client.ts) as a package of its own in dist/client/,
// so that a front end in another repository installs it without this server's source or
// dependencies. `npm pack dist/client` makes the tarball; scripts/test-client-package.mjs installs
// it into a scratch project and type-checks a call.
//
// - index.js: src/client.ts and what it imports, bundled by esbuild; hono stays an import.
// - index.d.ts: one file. tsc writes the declarations of src/client.ts and of everything it
//   reaches; API Extractor rolls them into one, inlining this repository's declarations and
//   keeping imports of the packages the package depends on (hono, zod, ai). The routes' types need
//   nothing of the server: createChatClient's return type is inferred, so tsc writes it out in
//   full (route by route, in terms of hono's client types). AppType is left out: its type names the
//   server's environment (src/context.ts: the Worker's bindings, the database client), which a
//   front end has no declarations for. A front end uses ChatClient instead.
// - package.json: name, the root's version, dependencies.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Extractor, ExtractorConfig, ExtractorLogLevel } from "@microsoft/api-extractor";
import { build } from "esbuild";
import { REPO_ROOT } from "./local-database.mjs";

export const PACKAGE_NAME = "@humanoid-robotics-book/chat-history-client";
export const CLIENT_DIR = path.join(REPO_ROOT, "dist", "client");
const ENTRY = path.join(REPO_ROOT, "src", "client.ts");
const TSC = path.join(REPO_ROOT, "node_modules", ".bin", "tsc");
// The one export of src/client.ts the package cannot carry (see above).
const SERVER_ONLY_EXPORT = 'export type { AppType } from "./app";';

/** @typedef {{ version: string, dependencies: Record<string, string> }} RootPackage */

/** Builds dist/client/ afresh. @returns {Promise<string>} the package's directory */
export async function buildClientPackage() {
  /** @type {RootPackage} */
  const root = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
  rmSync(CLIENT_DIR, { recursive: true, force: true });
  mkdirSync(CLIENT_DIR, { recursive: true });

  await build({
    entryPoints: [ENTRY],
    outfile: path.join(CLIENT_DIR, "index.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["hono", "hono/*"],
    logLevel: "warning",
  });

  const declarations = mkdtempSync(path.join(tmpdir(), "chat-history-client-dts-"));
  try {
    emitDeclarations(declarations);
    const entry = path.join(declarations, "client.d.ts");
    const emitted = readFileSync(entry, "utf8");
    if (!emitted.includes(SERVER_ONLY_EXPORT)) {
      throw new Error(`src/client.ts no longer has the line ${SERVER_ONLY_EXPORT}: update scripts/build-client.mjs`);
    }
    writeFileSync(entry, emitted.replace(SERVER_ONLY_EXPORT, ""));
    rollUpDeclarations(entry, path.join(CLIENT_DIR, "index.d.ts"));
  } finally {
    rmSync(declarations, { recursive: true, force: true });
  }

  const manifest = {
    name: PACKAGE_NAME,
    version: root.version,
    description:
      "Typed client of the chat history service: Hono's hc over its routes, and a reader of streamed answers.",
    type: "module",
    exports: { ".": { types: "./index.d.ts", default: "./index.js" } },
    types: "./index.d.ts",
    sideEffects: false,
    // What index.js imports (hono) and what index.d.ts imports (hono, zod; ai for UiMessage).
    dependencies: { hono: `^${root.dependencies.hono}`, zod: `^${root.dependencies.zod}` },
    peerDependencies: { ai: `^${root.dependencies.ai}` },
  };
  writeFileSync(path.join(CLIENT_DIR, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return CLIENT_DIR;
}

/** tsc's declarations of src/client.ts and of every file it reaches, into `outDir`. @param {string} outDir */
function emitDeclarations(outDir) {
  const tsconfig = path.join(outDir, "tsconfig.json");
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(REPO_ROOT, "tsconfig.json"),
      compilerOptions: {
        noEmit: false,
        declaration: true,
        emitDeclarationOnly: true,
        rootDir: path.join(REPO_ROOT, "src"),
        outDir,
        // The Worker's globals (Env) only: the test pool's types are not the client's business.
        types: [path.join(REPO_ROOT, "worker-configuration.d.ts")],
      },
      include: [],
      files: [ENTRY, path.join(REPO_ROOT, "src", "modules.d.ts")],
    }),
  );
  execFileSync(TSC, ["-p", tsconfig], { stdio: "inherit" });
}

/**
 * API Extractor's roll-up of the declarations reachable from `entry` into one file. It runs its own
 * TypeScript (the repository's TypeScript 7 has no compiler API), which reads .d.ts files only.
 *
 * @param {string} entry
 * @param {string} outFile
 */
function rollUpDeclarations(entry, outFile) {
  const folder = path.dirname(entry);
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: folder,
      mainEntryPointFilePath: entry,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: "es2022",
            module: "esnext",
            moduleResolution: "bundler",
            lib: ["es2024", "dom"],
            types: [],
            strict: true,
            skipLibCheck: true,
          },
          files: [entry],
        },
      },
      dtsRollup: { enabled: true, untrimmedFilePath: outFile },
      apiReport: { enabled: false },
      docModel: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Error },
          // Release tags and an entry point exporting every schema matter to a published API
          // report, which this is not: only the roll-up is wanted.
          "ae-missing-release-tag": { logLevel: ExtractorLogLevel.None },
          "ae-forgotten-export": { logLevel: ExtractorLogLevel.None },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: path.join(REPO_ROOT, "package.json"),
  });
  const result = Extractor.invoke(config, { localBuild: true });
  if (!result.succeeded) throw new Error(`API Extractor: ${result.errorCount} errors`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const dir = await buildClientPackage();
  console.log(`${PACKAGE_NAME}: ${path.relative(REPO_ROOT, dir)}/ (npm pack ${path.relative(REPO_ROOT, dir)})`);
}
