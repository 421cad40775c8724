// The test Worker runs on the tests' own settings, whatever the developer's .dev.vars or .env holds.
// Reads the pool's env directly; scripts/test-settings-check.mjs runs this file with both filled in.
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { readConfig } from "../src/config";

/**
 * vitest.config.ts's settings (the AUTH_* ones name the test issuer the global setup started) and
 * wrangler.toml's [vars]; nothing else may hold a value.
 */
const expected: Record<string, string> = {
  CORS_ORIGINS: "https://book.example,https://other.example",
  ADMIN_TOKEN: "test-admin-token-5f0c2b7e9d1a4c6b8e3f",
  RATE_LIMITS: "on",
  SESSION_RETENTION_DAYS: "365",
  AUTH_JWKS_URL: inject("authIssuer").jwksUrl,
  AUTH_ISSUER: inject("authIssuer").url,
  AUTH_AUDIENCE: inject("authIssuer").url,
};

describe("the test Worker's settings", () => {
  it("hold only the tests' values: every other text setting is empty", () => {
    const set = Object.fromEntries(
      Object.entries(env).filter(
        // The pool's own marker is not a setting.
        ([key, value]) => typeof value === "string" && value !== "" && !key.startsWith("__VITEST_POOL_WORKERS"),
      ),
    );
    expect(Object.keys(set).sort()).toEqual(Object.keys(expected).sort());
    expect(set).toEqual(expected);
  });

  it("answer with the echo responder, calling no model", () => {
    expect(readConfig(env).answer).toEqual({ kind: "echo" });
  });

  it("verify readers' tokens against the test issuer, with the default algorithms", () => {
    const issuer = inject("authIssuer");
    expect(readConfig(env).auth).toEqual({
      jwksUrl: issuer.jwksUrl,
      issuer: issuer.url,
      audience: issuer.url,
      algorithms: ["EdDSA", "ES256", "RS256"],
    });
    expect(readConfig(env).authProblem).toBeNull();
  });
});
