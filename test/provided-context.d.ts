// What test/global-setup.ts provides to vitest.config.ts and to the tests.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    unreachableDatabaseUrl: string;
    crowdedDatabaseUrl: string;
    freezableDatabaseUrl: string;
    freezeControlUrl: string;
    fakeUpstreamUrl: string;
    /** What wrangler.toml tells Cloudflare to keep of requests, as wrangler itself reads it. */
    deployedLogging: {
      observability: unknown;
      logpush: boolean | undefined;
      tailConsumers: unknown;
    };
  }
}
