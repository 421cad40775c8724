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
    /** The real sign-in provider (Better Auth): its base URL, which is its tokens' iss and aud. */
    authIssuer: { url: string; jwksUrl: string };
    /** Two readers signed up with it, each with a token valid for an hour. */
    readers: Record<"a" | "b", { email: string; subject: string; token: string }>;
    /** The key-set server the tests control (test/fakes/issuer-jwks.ts). */
    issuerJwksUrl: string;
    /** A key-set URL on a port where nothing listens. */
    unreachableJwksUrl: string;
    /** What wrangler.toml tells Cloudflare to keep of requests, as wrangler itself reads it. */
    deployedLogging: {
      observability: unknown;
      logpush: boolean | undefined;
      tailConsumers: unknown;
    };
  }
}
