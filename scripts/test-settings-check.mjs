// `node scripts/test-settings-check.mjs`: proves that `npm test` ignores the developer's local
// settings. In a temporary copy of the working tree, writes a .dev.vars (then, alone, a .env)
// filled in as the README says, with a model key and every setting that would change what the
// tests see, and runs test/test-settings.test.ts and test/health.test.ts there. Exits non-zero
// when either run fails. .ci/run runs it.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const filledIn = [
  "LLM_BASE_URL=http://127.0.0.1:9/v1",
  "LLM_API_KEY=sk-this-must-never-reach-a-test",
  "LLM_MODEL=gpt-4o-mini",
  "EMBEDDING_MODEL=text-embedding-3-small",
  "QDRANT_URL=http://127.0.0.1:9",
  "QDRANT_COLLECTION=book",
  "RAG_TOP_K=abc",
  "RATE_LIMITS=off",
  "CHAT_RATE_LIMIT=off",
  "SESSION_RETENTION_DAYS=0",
  "CORS_ORIGINS=http://localhost:3000",
  "ADMIN_TOKEN=short",
  "AUTH_JWKS_URL=http://127.0.0.1:9/api/auth/jwks",
  "AUTH_ISSUER=https://site.example",
  "AUTH_AUDIENCE=https://site.example",
  "AUTH_ALGORITHMS=HS256",
  "A_SETTING_NO_TEST_KNOWS=1",
  "",
].join("\n");

const tracked = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
  cwd: root,
  encoding: "utf8",
});
if (tracked.status !== 0) throw new Error(`git ls-files failed: ${tracked.stderr}`);

let failed = 0;
for (const file of [".dev.vars", ".env"]) {
  const copy = mkdtempSync(path.join(tmpdir(), "chat-history-settings-"));
  try {
    for (const name of tracked.stdout.split("\0").filter(Boolean)) {
      if (name === ".dev.vars" || name === ".env") continue;
      cpSync(path.join(root, name), path.join(copy, name), { recursive: true });
    }
    // Installed, not in git: the dependencies and the docs page's vendored files.
    symlinkSync(path.join(root, "node_modules"), path.join(copy, "node_modules"));
    symlinkSync(path.join(root, "src", "vendor"), path.join(copy, "src", "vendor"));
    writeFileSync(path.join(copy, file), filledIn);
    const run = spawnSync(
      path.join(root, "node_modules", ".bin", "vitest"),
      ["run", "test/test-settings.test.ts", "test/health.test.ts"],
      { cwd: copy, stdio: "inherit", env: { ...process.env, CI: "1" } },
    );
    const ok = run.status === 0;
    console.log(`test settings with a filled-in ${file}: ${ok ? "ignored" : "FAILED: the tests saw it"}`);
    if (!ok) failed += 1;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
process.exit(failed === 0 ? 0 : 1);
