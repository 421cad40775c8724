// Readers' sign-in tokens (docs/api.md, "Readers: signing in with a token"): who a valid token names,
// what an invalid one and an unverifiable one get, and what fetching the issuer's keys costs.
// Calls the Worker's fetch handler, trusting the real Better Auth issuer of the global setup, and
// app instances whose AUTH_* settings trust a key set the test controls (test/fakes/issuer-jwks.ts);
// every request reads the history of an anonymous session, GET /api/sessions/{uuid}/messages.
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { createApp } from "../src/app";
import { keySetTimings } from "../src/auth/key-set";
import { readConfig } from "../src/config";
import type { AppEnv } from "../src/context";
import { reader } from "../src/middleware/reader";
import { adminToken } from "./helpers/admin";
import { ask, call, callApp, expectProblem, type HistoryPage } from "./helpers/http";
import {
  forgedToken,
  type LocalIssuer,
  localAudience,
  localIssuer,
  localIssuerName,
  signingKey,
  signToken,
  tokenHeader,
  validClaims,
} from "./helpers/tokens";

let sessionUuid: string;

beforeAll(async () => {
  ({ session_uuid: sessionUuid } = await ask("a question asked before signing in"));
});

afterEach(() => {
  vi.restoreAllMocks();
});

const historyPath = () => `/api/sessions/${sessionUuid}/messages`;

/** Reads the anonymous session's history with this Authorization header, trusting `issuer`. */
async function readHistory(issuer: LocalIssuer, authorization?: string, extra: Partial<Env> = {}) {
  const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
  const { response } = await callApp(createApp(), historyPath(), { headers }, issuer.bindings(extra));
  return response;
}

async function expectInvalidToken(response: Response) {
  const problem = await expectProblem(response, 401, "invalid_token");
  expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
  return problem;
}

async function expectAuthUnavailable(response: Response) {
  const problem = await expectProblem(response, 503, "auth_unavailable");
  expect(Number(response.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  return problem;
}

/**
 * Moves the isolate's clock (Date.now, which the key cache reads) `ms` on; jose's expiry checks
 * read `new Date()` and stay on the real time, so the tokens stay valid.
 */
function advanceClock(ms: number) {
  const now = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => now() + ms);
}

/** A mini app that answers with the reader the middleware set. */
const whoAmI = new Hono<AppEnv>().use(reader()).get("/", (c) => c.json(c.var.reader));

describe("a reader signed in with Better Auth, the sign-in provider of the book's site", () => {
  const issuer = inject("authIssuer");
  const readers = inject("readers");

  it("is accepted with the token Better Auth issued (EdDSA), verified through its own JWKS", async () => {
    expect(tokenHeader(readers.a.token)).toMatchObject({ alg: "EdDSA", kid: expect.any(String) });
    const response = await call(historyPath(), { headers: { Authorization: `Bearer ${readers.a.token}` } });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(((await response.json()) as HistoryPage).messages).toHaveLength(2);
  });

  it("is the pair (iss, sub) of the token, and nothing else of it: not the email Better Auth puts in it", async () => {
    for (const signedIn of [readers.a, readers.b]) {
      const response = await whoAmI.request("/", { headers: { Authorization: `Bearer ${signedIn.token}` } }, env);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ issuer: issuer.url, subject: signedIn.subject });
      expect(text).not.toContain(signedIn.email);
    }
    expect(readers.a.subject).not.toBe(readers.b.subject);
  });

  it("is anonymous (null) without an Authorization header", async () => {
    const response = await whoAmI.request("/", {}, env);
    expect(await response.json()).toBeNull();
  });

  it("is refused (401) by a service that trusts another audience", async () => {
    const { response } = await callApp(
      createApp(),
      historyPath(),
      { headers: { Authorization: `Bearer ${readers.a.token}` } },
      { AUTH_AUDIENCE: "https://another-site.example" },
    );
    await expectInvalidToken(response);
  });

  it("does not touch the admin API, whose Authorization is the admin token", async () => {
    const response = await call("/api/admin/sessions?limit=1", { headers: { Authorization: `Bearer ${adminToken}` } });
    expect(response.status, await response.clone().text()).toBe(200);
  });
});

describe("a valid token", () => {
  it.each(["EdDSA", "ES256", "RS256"])("signed with %s is accepted: 200", async (alg) => {
    const issuer = localIssuer();
    const key = await signingKey(alg);
    await issuer.publish(key);
    const response = await readHistory(issuer, `Bearer ${await signToken(key)}`);
    expect(response.status, await response.clone().text()).toBe(200);
  });

  it("names the reader by the token's iss and sub", async () => {
    const issuer = localIssuer();
    const key = await signingKey();
    await issuer.publish(key);
    const token = await signToken(key, { sub: "user_2x9", email: "someone@example.com" });
    const response = await whoAmI.request(
      "/",
      { headers: { Authorization: `Bearer ${token}` } },
      {
        ...env,
        ...issuer.bindings(),
      },
    );
    expect(await response.json()).toEqual({ issuer: localIssuerName, subject: "user_2x9" });
  });

  it("is not needed: without one the request is anonymous, and no key is fetched", async () => {
    const issuer = localIssuer();
    await issuer.publish(await signingKey());
    const response = await readHistory(issuer);
    expect(response.status).toBe(200);
    expect(await issuer.fetches()).toBe(0);
  });
});

describe("a present but invalid token is 401 invalid_token, never served as anonymous", () => {
  const issuer = localIssuer();
  const cases: Record<string, { authorization: string; extra?: Partial<Env> }> = {};

  beforeAll(async () => {
    const key = await signingKey("EdDSA");
    const another = await signingKey("EdDSA");
    const es384 = await signingKey("ES384");
    const rsa = await signingKey("RS256");
    // ES384's key is published too: the token is refused for its algorithm, not for a missing key.
    await issuer.publish(key, es384, rsa);
    const bearer = (token: string) => `Bearer ${token}`;
    const valid = await signToken(key);
    const [header, , signature] = valid.split(".");
    const now = Math.floor(Date.now() / 1000);
    const tampered = `${header}.${forgedToken({}, validClaims({ sub: "someone-else" })).split(".")[1]}.${signature}`;
    const hs256 = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: "HS256", kid: key.kid })
      .sign(new TextEncoder().encode("a-shared-secret-the-service-never-has"));
    Object.assign(cases, {
      "a tampered payload (bad signature)": { authorization: bearer(tampered) },
      "another key's signature under a published kid": {
        authorization: bearer(await signToken({ ...another, kid: key.kid })),
      },
      "an expired exp": { authorization: bearer(await signToken(key, { iat: now - 3600, exp: now - 120 })) },
      "a nbf in the future": { authorization: bearer(await signToken(key, { nbf: now + 3600 })) },
      "a wrong iss": { authorization: bearer(await signToken(key, { iss: "https://elsewhere.example" })) },
      "a wrong aud": { authorization: bearer(await signToken(key, { aud: "https://elsewhere.example" })) },
      "alg none": { authorization: bearer(forgedToken({ alg: "none", kid: key.kid }, validClaims())) },
      "alg HS256 (an HMAC algorithm)": { authorization: bearer(hs256) },
      "alg ES384 (not among the allowed)": { authorization: bearer(await signToken(es384)) },
      "RS256 when AUTH_ALGORITHMS allows only EdDSA": {
        authorization: bearer(await signToken(rsa)),
        extra: { AUTH_ALGORITHMS: "EdDSA" },
      },
      "an unknown kid (after the refetch)": {
        authorization: bearer(await signToken({ ...another, kid: "a-kid-nobody-published" })),
      },
      "no sub": { authorization: bearer(await signToken(key, { sub: undefined })) },
      "a sub that is not a string": { authorization: bearer(await signToken(key, { sub: 42 })) },
      "an empty sub": { authorization: bearer(await signToken(key, { sub: "" })) },
      "a sub of 256 characters": { authorization: bearer(await signToken(key, { sub: "s".repeat(256) })) },
      "no exp": { authorization: bearer(await signToken(key, { exp: undefined })) },
      "no aud": { authorization: bearer(await signToken(key, { aud: undefined })) },
      "a malformed token": { authorization: "Bearer not-a-token" },
      "three parts that are not base64url JSON": { authorization: "Bearer a.b.c" },
      "a header that is not JSON": { authorization: `Bearer ${btoa("{alg").replace(/=+$/, "")}.e30.c2ln` },
      "an empty Bearer": { authorization: "Bearer " },
      "two words after Bearer": { authorization: `Bearer ${valid} extra` },
      "another scheme": { authorization: "Basic cmVhZGVyOnNlY3JldA==" },
    });
  });

  it.each([
    "a tampered payload (bad signature)",
    "another key's signature under a published kid",
    "an expired exp",
    "a nbf in the future",
    "a wrong iss",
    "a wrong aud",
    "alg none",
    "alg HS256 (an HMAC algorithm)",
    "alg ES384 (not among the allowed)",
    "RS256 when AUTH_ALGORITHMS allows only EdDSA",
    "an unknown kid (after the refetch)",
    "no sub",
    "a sub that is not a string",
    "an empty sub",
    "a sub of 256 characters",
    "no exp",
    "no aud",
    "a malformed token",
    "three parts that are not base64url JSON",
    "a header that is not JSON",
    "an empty Bearer",
    "two words after Bearer",
    "another scheme",
  ])("%s", async (name) => {
    const { authorization, extra } = cases[name]!;
    const problem = await expectInvalidToken(await readHistory(issuer, authorization, extra));
    expect(problem.detail).not.toContain(authorization.slice(7, 40) || "\u0000");
  });

  it("no kid, while the issuer publishes several keys of its kind: the service does not guess", async () => {
    const own = localIssuer();
    const [key, another] = [await signingKey(), await signingKey()];
    await own.publish(key, another);
    await expectInvalidToken(await readHistory(own, `Bearer ${await signToken(key, {}, { kid: undefined })}`));
  });

  it("a token without a kid is accepted when one key of its kind is published", async () => {
    const own = localIssuer();
    const key = await signingKey();
    await own.publish(key, await signingKey("ES256"));
    expect((await readHistory(own, `Bearer ${await signToken(key, {}, { kid: undefined })}`)).status).toBe(200);
  });
});

describe("the issuer's key set", () => {
  it("is fetched once, then verifies without a round trip: five requests, one fetch", async () => {
    const issuer = localIssuer();
    const key = await signingKey();
    await issuer.publish(key);
    for (const sub of ["r1", "r2", "r3", "r4", "r5"]) {
      expect((await readHistory(issuer, `Bearer ${await signToken(key, { sub })}`)).status).toBe(200);
    }
    expect(await issuer.fetches()).toBe(1);
  });

  it("is fetched once for concurrent first verifications in one isolate", async () => {
    const issuer = localIssuer();
    const key = await signingKey();
    await issuer.publish(key);
    const token = await signToken(key);
    const responses = await Promise.all([1, 2, 3, 4, 5].map(() => readHistory(issuer, `Bearer ${token}`)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await issuer.fetches()).toBe(1);
  });

  it("takes a rotated-in key after one refetch, once the interval since the last fetch has passed", async () => {
    const issuer = localIssuer();
    const first = await signingKey();
    const next = await signingKey();
    await issuer.publish(first);
    expect((await readHistory(issuer, `Bearer ${await signToken(first)}`)).status).toBe(200);
    await issuer.publish(first, next);
    // Within the interval of the first fetch, the new kid is not looked for.
    await expectInvalidToken(await readHistory(issuer, `Bearer ${await signToken(next)}`));
    expect(await issuer.fetches()).toBe(1);
    advanceClock(keySetTimings.minFetchIntervalMs + 1_000);
    expect((await readHistory(issuer, `Bearer ${await signToken(next)}`)).status).toBe(200);
    expect((await readHistory(issuer, `Bearer ${await signToken(first)}`)).status).toBe(200);
    expect(await issuer.fetches()).toBe(2);
  });

  it("costs the issuer one fetch per interval, whatever a flood of made-up kids asks", async () => {
    const issuer = localIssuer();
    const key = await signingKey();
    await issuer.publish(key);
    const flood = async () => {
      const responses = await Promise.all(
        Array.from({ length: 20 }, async () =>
          readHistory(issuer, `Bearer ${await signToken({ ...key, kid: crypto.randomUUID() })}`),
        ),
      );
      for (const response of responses) await expectInvalidToken(response);
    };
    await flood();
    expect(await issuer.fetches()).toBe(1);
    advanceClock(keySetTimings.minFetchIntervalMs + 1_000);
    await flood();
    expect(await issuer.fetches()).toBe(2);
  });

  it("unreachable: 503 auth_unavailable with Retry-After, never 200 for the token", async () => {
    const issuer = localIssuer();
    const key = await signingKey();
    const unreachable = { AUTH_JWKS_URL: inject("unreachableJwksUrl") };
    await expectAuthUnavailable(await readHistory(issuer, `Bearer ${await signToken(key)}`, unreachable));
    // Anonymous requests do not need the issuer.
    expect((await readHistory(issuer, undefined, unreachable)).status).toBe(200);
  });

  it("slower than the bound (3 s): 503 auth_unavailable when the bound is reached", async () => {
    const issuer = localIssuer();
    const key = await signingKey();
    await issuer.serve({ keys: [key.publicJwk], delayMs: keySetTimings.fetchTimeoutMs + 3_000 });
    const started = Date.now();
    await expectAuthUnavailable(await readHistory(issuer, `Bearer ${await signToken(key)}`));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(keySetTimings.fetchTimeoutMs - 100);
    expect(waited).toBeLessThan(keySetTimings.fetchTimeoutMs + 1_500);
  });

  it.each([
    ["answers HTTP 500", { status: 500 }],
    ["answers something that is not JSON", { body: "<html>sign in</html>" }],
    ["answers JSON that is no key set", { body: '{"issuer":"https://issuer.test"}' }],
    ["closes the connection without answering", { destroy: true }],
  ])("that %s: 503 auth_unavailable", async (_, scenario) => {
    const issuer = localIssuer();
    const key = await signingKey();
    await issuer.serve(scenario);
    await expectAuthUnavailable(await readHistory(issuer, `Bearer ${await signToken(key)}`));
  });

  it("while it cannot be fetched, is not asked again within the interval: 503 without a fetch", async () => {
    const issuer = localIssuer();
    const key = await signingKey();
    await issuer.serve({ destroy: true });
    for (let i = 0; i < 10; i++) {
      const token = await signToken({ ...key, kid: crypto.randomUUID() });
      const problem = await expectAuthUnavailable(await readHistory(issuer, `Bearer ${token}`));
      expect(problem.code).toBe("auth_unavailable");
    }
    expect(await issuer.fetches()).toBe(1);
  });

  it("keeps serving the keys it has while a refresh fails, for a day after they were fetched", async () => {
    const issuer = localIssuer();
    const key = await signingKey();
    await issuer.publish(key);
    expect((await readHistory(issuer, `Bearer ${await signToken(key)}`)).status).toBe(200);
    await issuer.serve({ destroy: true });
    advanceClock(keySetTimings.refreshAfterMs + 1_000);
    const stale = await readHistory(issuer, `Bearer ${await signToken(key)}`);
    expect(stale.status, await stale.clone().text()).toBe(200);
    expect(await issuer.fetches()).toBe(2);
    vi.restoreAllMocks();
    advanceClock(keySetTimings.keepStaleForMs + 1_000);
    await expectAuthUnavailable(await readHistory(issuer, `Bearer ${await signToken(key)}`));
  });
});

describe("the AUTH_* settings", () => {
  it("unset: the service is anonymous-only, and a Bearer header on a public route is ignored", async () => {
    const none = { AUTH_JWKS_URL: "", AUTH_ISSUER: "", AUTH_AUDIENCE: "" };
    const { response } = await callApp(createApp(), historyPath(), { headers: { Authorization: "Bearer x" } }, none);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(readConfig({ ...env, ...none }).authProblem).toBeNull();
  });

  it("a partial set is refused: /health names what is missing, and tokens are ignored", async () => {
    const partial = { AUTH_AUDIENCE: "" };
    const health = await callApp(createApp(), "/health", {}, partial);
    expect(await health.response.json()).toEqual({
      status: "degraded",
      database: "ok",
      answer_provider: "echo",
      auth_problem:
        "AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE go together: missing AUTH_AUDIENCE; readers' tokens are ignored",
    });
    const { response } = await callApp(createApp(), historyPath(), { headers: { Authorization: "Bearer x" } }, partial);
    expect(response.status).toBe(200);
  });

  it.each([
    ["AUTH_ALGORITHMS", "HS256", "AUTH_ALGORITHMS may list only asymmetric JWS algorithms"],
    ["AUTH_ALGORITHMS", "EdDSA,none", "AUTH_ALGORITHMS may list only asymmetric JWS algorithms"],
    ["AUTH_ALGORITHMS", "EdDSA,HS512", "AUTH_ALGORITHMS may list only asymmetric JWS algorithms"],
    ["AUTH_ALGORITHMS", "", null],
    ["AUTH_JWKS_URL", "ftp://issuer.example/jwks", "AUTH_JWKS_URL must be an http(s) URL"],
    ["AUTH_JWKS_URL", "issuer.example/jwks", "AUTH_JWKS_URL must be an http(s) URL"],
  ])("%s=%s is refused by name, never by value", (name, value, problem) => {
    const config = readConfig({ ...env, [name]: value });
    if (problem === null) {
      expect(config.authProblem).toBeNull();
      expect(config.auth?.algorithms).toEqual(["EdDSA", "ES256", "RS256"]);
      return;
    }
    expect(config.auth).toBeNull();
    expect(config.authProblem).toContain(problem);
    expect(config.authProblem).not.toContain(value);
  });

  it("AUTH_ALGORITHMS narrows the algorithms a token may use", () => {
    const config = readConfig({ ...env, AUTH_ALGORITHMS: "ES256, RS256" });
    expect(config.auth?.algorithms).toEqual(["ES256", "RS256"]);
  });
});

describe("what is logged of a token", () => {
  it("nothing: neither the token, nor its subject or other claims, for a 401 or a 503", async () => {
    const lines: string[] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    const issuer = localIssuer();
    const key = await signingKey();
    await issuer.publish(key);
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: "subject-7f3a9c", email: "secret-reader@example.com", exp: now - 60, iat: now - 3600 };
    const expired = await signToken(key, claims);
    await expectInvalidToken(await readHistory(issuer, `Bearer ${expired}`));
    await expectAuthUnavailable(
      await readHistory(issuer, `Bearer ${expired}`, { AUTH_JWKS_URL: inject("unreachableJwksUrl") }),
    );
    expect(lines.length).toBeGreaterThan(0);
    const everything = lines.join("\n");
    for (const secret of [expired, ...expired.split("."), claims.sub, claims.email, localAudience]) {
      expect(everything).not.toContain(secret);
    }
  });
});
