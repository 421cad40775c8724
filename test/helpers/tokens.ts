import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { inject } from "vitest";
import type { JwksScenario } from "../fakes/issuer-jwks-scenario";

/** The issuer and audience of the locally signed tokens. */
export const localIssuerName = "https://issuer.test";
export const localAudience = "https://chat.test";

export type SigningKey = { kid: string; alg: string; privateKey: CryptoKey; publicJwk: JWK };

/** A fresh key pair; its public half is what a key set publishes. */
export async function signingKey(alg = "EdDSA", kid = `key-${crypto.randomUUID()}`): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

/**
 * An issuer whose key set this test controls, on the tests' key-set server: a URL of its own, so
 * the service's key cache and the server's fetch count start empty for each test.
 */
export function localIssuer() {
  const base = inject("issuerJwksUrl");
  const key = crypto.randomUUID();
  const jwksUrl = `${base}/jwks/${key}`;
  return {
    jwksUrl,
    /** The AUTH_* settings that trust this issuer, and `extra` over them. */
    bindings: (extra: Partial<Env> = {}): Partial<Env> => ({
      AUTH_JWKS_URL: jwksUrl,
      AUTH_ISSUER: localIssuerName,
      AUTH_AUDIENCE: localAudience,
      ...extra,
    }),
    async serve(scenario: JwksScenario): Promise<void> {
      const response = await fetch(`${base}/__jwks/${key}`, { method: "PUT", body: JSON.stringify(scenario) });
      if (response.status !== 204) throw new Error(`the key-set server answered ${response.status}`);
    },
    /** Publishes exactly these keys. */
    publish(...keys: SigningKey[]): Promise<void> {
      return this.serve({ keys: keys.map((signing) => signing.publicJwk) });
    },
    /** How many times the key set was fetched so far. */
    async fetches(): Promise<number> {
      const response = await fetch(`${base}/__jwks/${key}/fetches`);
      return ((await response.json()) as { fetches: number }).fetches;
    },
  };
}

export type LocalIssuer = ReturnType<typeof localIssuer>;

type Claims = Record<string, unknown>;

/**
 * A token signed with `key`: a valid one for the local issuer unless `claims` (undefined removes
 * a claim) or `header` say otherwise.
 */
export async function signToken(key: SigningKey, claims: Claims = {}, header: Claims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = withoutUndefined({
    iss: localIssuerName,
    aud: localAudience,
    sub: "reader-1",
    iat: now,
    exp: now + 600,
    ...claims,
  });
  return new SignJWT(payload)
    .setProtectedHeader(withoutUndefined({ alg: key.alg, kid: key.kid, ...header }) as { alg: string })
    .sign(key.privateKey);
}

/** A token with any header, any payload and any signature: signed by nobody. */
export function forgedToken(header: Claims, payload: Claims, signature = ""): string {
  const part = (value: Claims) => base64url(JSON.stringify(value));
  return `${part(header)}.${part(payload)}.${signature}`;
}

/** The claims of a valid token for the local issuer, for forging one. */
export function validClaims(extra: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  return { iss: localIssuerName, aud: localAudience, sub: "reader-1", iat: now, exp: now + 600, ...extra };
}

/** The decoded header of a compact JWT. */
export function tokenHeader(token: string): Claims {
  const encoded = token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(encoded)) as Claims;
}

function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function withoutUndefined(value: Claims): Claims {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined));
}
