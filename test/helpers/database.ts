import { env } from "cloudflare:workers";
import postgres from "postgres";

/**
 * A direct SQL client over the same Hyperdrive binding the Worker uses, for setting up and
 * inspecting rows. Made per test, never at module scope, and never ended (see src/db/client.ts).
 */
export function openSql(connectionString = env.HYPERDRIVE.connectionString) {
  return postgres(connectionString, { max: 5, fetch_types: false, onnotice: () => {} });
}
