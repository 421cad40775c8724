import { errors, jwtVerify } from "jose";
import type { AuthConfig } from "../config";
import { type ApiError, authUnavailable, invalidToken } from "../http/problem";
import type { Reader } from "../reader";
import { KeySetUnavailable, keySetFor } from "./key-set";

/** The longest subject kept; every provider we know of uses far fewer (UUIDs, "user_…" ids). */
export const maxSubjectLength = 255;

/**
 * Verifies a reader's token against the configured issuer's key set and returns the reader it
 * names. A token that is not valid is `401 invalid_token`; one that cannot be judged because the
 * keys cannot be had is `503 auth_unavailable`. Either way it is never taken as anonymous.
 */
export async function verifyReaderToken(token: string, auth: AuthConfig): Promise<Reader> {
  let subject: unknown;
  try {
    const { payload } = await jwtVerify(token, keySetFor(auth.jwksUrl).getKey, {
      issuer: auth.issuer,
      audience: auth.audience,
      algorithms: auth.algorithms,
      requiredClaims: ["sub", "exp", "iss", "aud"],
      // The issuer's clock and Cloudflare's may differ by a little; not by more.
      clockTolerance: 5,
    });
    subject = payload.sub;
  } catch (error) {
    throw judged(error);
  }
  if (typeof subject !== "string" || subject.length < 1 || subject.length > maxSubjectLength) {
    throw invalidToken(`the token's "sub" claim must be a string of 1 to ${maxSubjectLength} characters`);
  }
  // jose has checked that iss is exactly the configured issuer.
  return { issuer: auth.issuer, subject };
}

/**
 * What the token's own faults are, each in words that name no value of it. Anything not listed
 * (the key set unreachable, malformed or unusable, a fault of ours) is not the token's fault,
 * and answering 401 for it would tell a reader their sign-in is bad when it is not.
 */
const tokenFaults: Record<string, (error: errors.JOSEError) => string> = {
  [errors.JWTExpired.code]: () => "the token has expired; get a new one from the sign-in provider",
  [errors.JWTClaimValidationFailed.code]: (error) =>
    `the token's "${(error as errors.JWTClaimValidationFailed).claim}" claim is missing or not accepted`,
  [errors.JWSSignatureVerificationFailed.code]: () => "the token's signature does not verify",
  [errors.JOSEAlgNotAllowed.code]: () => "the token's algorithm is not accepted",
  [errors.JOSENotSupported.code]: () => "the token uses an algorithm or header this service does not support",
  [errors.JWKSNoMatchingKey.code]: () => "the token names a key its issuer does not publish",
  [errors.JWKSMultipleMatchingKeys.code]: () => "the token names no key (kid) and its issuer publishes several",
  [errors.JWSInvalid.code]: () => "the token is malformed",
  [errors.JWTInvalid.code]: () => "the token is malformed",
};

/** For a failure with no fetch schedule of its own: a published key that cannot be used, say. */
const keySetRetryAfterSeconds = 30;

function judged(error: unknown): ApiError {
  if (error instanceof errors.JOSEError) {
    const fault = tokenFaults[error.code];
    if (fault) return invalidToken(fault(error), error);
  }
  if (error instanceof KeySetUnavailable) return authUnavailable(error.retryAfterMs / 1_000, error);
  return authUnavailable(keySetRetryAfterSeconds, error);
}
