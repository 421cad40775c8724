import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // Databases the global setup prepared: a migrated PostgreSQL, a port where nothing
        // listens ("the database is down"), and a role allowed no connection ("too many clients").
        hyperdrives: {
          HYPERDRIVE: inject("databaseUrl"),
          UNREACHABLE_HYPERDRIVE: inject("unreachableDatabaseUrl"),
          CROWDED_HYPERDRIVE: inject("crowdedDatabaseUrl"),
        },
        bindings: { CORS_ORIGINS: "https://book.example,https://other.example" },
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
 * postgres.js's workerd socket (postgres/cf/polyfills.js) keeps reading after the connection has
 * failed and postgres.js has dropped its listeners; the late "Stream was cancelled." is then
 * re-emitted as an 'error' nobody listens to and surfaces as an unhandled rejection. It happens
 * only when a connection is refused, which the "database is down" tests do on purpose; the query
 * itself has already failed and been answered with 503. Anything else still fails the run.
 */
function isPostgresJsSocketTeardown(error: { message?: string; stack?: string }): boolean | undefined {
  if (error.message === "Stream was cancelled." && error.stack?.includes("postgres/cf/polyfills.js")) return false;
}
