// Bindings that exist only in the test pool (vitest.config.ts).
declare namespace Cloudflare {
  interface Env {
    UNREACHABLE_HYPERDRIVE: Hyperdrive;
    CROWDED_HYPERDRIVE: Hyperdrive;
    FREEZABLE_HYPERDRIVE: Hyperdrive;
    /** A secret in production (`wrangler secret put`), so not in worker-configuration.d.ts. */
    ADMIN_TOKEN: string;
  }
}
