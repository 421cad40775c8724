import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // Databases the global setup prepared: a migrated PostgreSQL, a port where nothing
        // listens ("the database is down"), a role allowed no connection ("too many clients"),
        // and the database behind a proxy that a test can freeze.
        hyperdrives: {
          HYPERDRIVE: inject("databaseUrl"),
          UNREACHABLE_HYPERDRIVE: inject("unreachableDatabaseUrl"),
          CROWDED_HYPERDRIVE: inject("crowdedDatabaseUrl"),
          FREEZABLE_HYPERDRIVE: inject("freezableDatabaseUrl"),
        },
        bindings: {
          CORS_ORIGINS: "https://book.example,https://other.example",
          // The admin API is on in the tests; test/admin.test.ts turns it off per request.
          ADMIN_TOKEN: "test-admin-token-5f0c2b7e9d1a4c6b8e3f",
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    // Request logs are printed only for tests that fail.
    silent: "passed-only",
    onUnhandledError: isPostgresJsSocketTeardown,
    hookTimeout: 60_000,
  },
});

/**
 * postgres.js's workerd socket (postgres/cf/polyfills.js) keeps reading after its connection has
 * gone and postgres.js has dropped its listeners; the late read error is then re-emitted as an
 * 'error' nobody listens to and surfaces as an unhandled rejection (porsager/postgres#1202). It
 * happens when a connection is refused ("Stream was cancelled.") or when a request ends with a
 * statement still pending, its socket closed by the runtime ("This socket has been closed."):
 * the "database is down" and "database stops answering" tests do both on purpose, and the
 * request has already been answered with 503. Anything else still fails the run.
 */
const postgresJsSocketTeardown = ["Stream was cancelled.", "This socket has been closed."];

function isPostgresJsSocketTeardown(error: { message?: string; stack?: string }): boolean | undefined {
  if (postgresJsSocketTeardown.includes(error.message ?? "") && error.stack?.includes("postgres/cf/polyfills.js")) {
    return false;
  }
}
