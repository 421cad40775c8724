import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_getVarsForDev, unstable_readConfig } from "wrangler";

const wranglerConfigPath = "./wrangler.toml";
const testDatabases = ["HYPERDRIVE", "UNREACHABLE_HYPERDRIVE", "CROWDED_HYPERDRIVE", "FREEZABLE_HYPERDRIVE"] as const;

/** The settings the tests run on; every other setting is wrangler.toml's, or absent. */
const testSettings = {
  CORS_ORIGINS: "https://book.example,https://other.example",
  // The admin API is on in the tests; test/admin.test.ts turns it off per request.
  ADMIN_TOKEN: "test-admin-token-5f0c2b7e9d1a4c6b8e3f",
};

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: wranglerConfigPath },
      miniflare: {
        // Databases the global setup prepared: a migrated PostgreSQL, a port where nothing
        // listens ("the database is down"), a role allowed no connection ("too many clients"),
        // and the database behind a proxy that a test can freeze.
        hyperdrives: {
          HYPERDRIVE: inject("databaseUrl"),
          UNREACHABLE_HYPERDRIVE: inject("unreachableDatabaseUrl"),
          CROWDED_HYPERDRIVE: inject("crowdedDatabaseUrl"),
          FREEZABLE_HYPERDRIVE: inject("freezableDatabaseUrl"),
        } satisfies Record<(typeof testDatabases)[number], string>,
        bindings: {
          ...withoutLocalSettings(),
          ...testSettings,
          // Readers sign in with the real issuer the global setup started (Better Auth), whose
          // tokens name its base URL as both issuer and audience.
          AUTH_JWKS_URL: inject("authIssuer").jwksUrl,
          AUTH_ISSUER: inject("authIssuer").url,
          AUTH_AUDIENCE: inject("authIssuer").url,
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
 * The plugin builds the test Worker with wrangler, which adds the developer's `.dev.vars` (or,
 * without one, `.env`) to wrangler.toml's [vars]: a filled-in model key would send every test's
 * question to the real provider. The plugin has no option to skip those files, and a binding can
 * be overridden but not removed; so every value wrangler would load is put back to wrangler.toml's
 * own, or to "", which the configuration reads as unset (test/test-settings.test.ts checks it;
 * scripts/test-settings-check.mjs runs that with a filled-in .dev.vars). The keys come from
 * wrangler's own loader, so this holds whatever the files hold.
 */
function withoutLocalSettings(): Record<string, string> {
  const config = unstable_readConfig({ config: wranglerConfigPath });
  const loaded = unstable_getVarsForDev(config.userConfigPath, undefined, config.vars, undefined, true);
  // A text value never replaces a binding of another kind (wrangler skips those too).
  const otherBindings = new Set([
    ...config.hyperdrive.map((binding: { binding: string }) => binding.binding),
    ...config.ratelimits.map((binding: { name: string }) => binding.name),
    ...testDatabases,
  ]);
  return Object.fromEntries(
    Object.keys(loaded)
      .filter((key) => !otherBindings.has(key))
      .map((key) => {
        const own = config.vars[key];
        return [key, typeof own === "string" ? own : ""];
      }),
  );
}

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
