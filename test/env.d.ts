// Bindings that exist only in the test pool (vitest.config.ts).
declare namespace Cloudflare {
  interface Env {
    UNREACHABLE_HYPERDRIVE: Hyperdrive;
    CROWDED_HYPERDRIVE: Hyperdrive;
    FREEZABLE_HYPERDRIVE: Hyperdrive;
  }
}
