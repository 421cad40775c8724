import { createLocalJWKSet, errors, type JWTVerifyGetKey } from "jose";
import { withDeadline } from "../deadline";

/**
 * How the issuer's key set (its JWKS) is fetched and kept. jose's own createRemoteJWKSet is not
 * used: its cooldown counts only successful fetches, so while the issuer is down every token with
 * an unknown `kid` would fetch again and wait out the timeout; it drops its keys after
 * cacheMaxAge even when the issuer cannot be reached; and on Workers it does not share a fetch
 * between concurrent requests.
 */
export const keySetTimings = {
  /** The longest a fetch of the key set may take, answer included. */
  fetchTimeoutMs: 3_000,
  /**
   * The least time between two fetches, counted from the start of the last attempt whether it
   * succeeded or not: a flood of tokens with made-up `kid`s costs the issuer one fetch per
   * interval per isolate, and a key the issuer has just rotated in is accepted after at most this.
   */
  minFetchIntervalMs: 30_000,
  /** Keys fetched longer ago than this are fetched again at their next use. */
  refreshAfterMs: 10 * 60_000,
  /**
   * While the issuer cannot be reached, the last keys fetched keep verifying tokens for this long
   * after their fetch: a stale key set is better than refusing every reader while the issuer
   * blips, and a key can only have been withdrawn by an issuer that is up to publish the change.
   */
  keepStaleForMs: 24 * 60 * 60_000,
};

/** Larger than any key set an issuer publishes (a few keys of under 1 KiB each). */
const maxKeySetBytes = 64 * 1024;

/** The key set cannot be had: neither fetched now nor kept from before. */
export class KeySetUnavailable extends Error {
  constructor(
    reason: string,
    /** When the next fetch may be tried. */
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
    this.name = "KeySetUnavailable";
  }
}

type FetchedKeys = { lookup: JWTVerifyGetKey; fetchedAt: number };

/** One issuer's keys in this isolate, shared by every request it serves. */
class KeySet {
  private keys: FetchedKeys | null = null;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  /** Why the last attempt failed; null when it succeeded. */
  private lastFailure: unknown = null;
  private pending: Promise<void> | null = null;

  constructor(private readonly url: string) {}

  /** The key for a token's header, as jose's jwtVerify asks for it. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.keys || Date.now() - this.keys.fetchedAt >= keySetTimings.refreshAfterMs) await this.refresh();
    const known = this.usableKeys();
    try {
      return await known.lookup(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // An unknown kid: the issuer may have rotated a key in since the last fetch.
      await this.refresh();
      if (this.keys !== known) return this.usableKeys().lookup(header, token);
      // Not fetched again: the last attempt was too recent. If it failed, this kid may be a new key
      // the service could not learn of; if it succeeded, the kid is unknown to the issuer too.
      if (this.lastFailure !== null) throw this.unavailable("the key set could not be fetched again");
      throw error;
    }
  };

  /**
   * Fetches the key set, unless a fetch is under way (then waits for it) or the last attempt
   * began less than minFetchIntervalMs ago (then does nothing). Never throws: a failure is kept
   * for the callers to judge, since stale keys may still serve.
   */
  private async refresh(): Promise<void> {
    if (!this.pending && Date.now() - this.lastAttemptAt >= keySetTimings.minFetchIntervalMs) {
      this.lastAttemptAt = Date.now();
      this.pending = fetchKeySet(this.url)
        .then(
          (lookup) => {
            this.keys = { lookup, fetchedAt: Date.now() };
            this.lastFailure = null;
          },
          (failure: unknown) => {
            this.lastFailure = failure;
          },
        )
        .finally(() => {
          this.pending = null;
        });
    }
    // The fetch may belong to another request of this isolate; its own deadline ends it, and this
    // one bounds the wait should that request have been cancelled with it.
    const pending = this.pending;
    if (pending) await withDeadline(keySetTimings.fetchTimeoutMs + 500, () => pending).catch(() => {});
  }

  private usableKeys(): FetchedKeys {
    if (this.keys && Date.now() - this.keys.fetchedAt < keySetTimings.keepStaleForMs) return this.keys;
    throw this.unavailable("no key set is at hand");
  }

  private unavailable(reason: string): KeySetUnavailable {
    const retryAfterMs = Math.max(1_000, this.lastAttemptAt + keySetTimings.minFetchIntervalMs - Date.now());
    return new KeySetUnavailable(reason, retryAfterMs, { cause: this.lastFailure ?? undefined });
  }
}

/** GETs the key set within fetchTimeoutMs and prepares it for lookups by kid and alg. */
async function fetchKeySet(url: string): Promise<JWTVerifyGetKey> {
  const text = await withDeadline(keySetTimings.fetchTimeoutMs, async (signal) => {
    const response = await fetch(url, { headers: { Accept: "application/json" }, signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new KeySetUnavailable(`the key set's URL answered HTTP ${response.status}`, 0);
    }
    const body = await response.text();
    if (body.length > maxKeySetBytes) throw new KeySetUnavailable("the key set is larger than 64 KiB", 0);
    return body;
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeySetUnavailable("the key set is not JSON", 0);
  }
  // Throws JWKSInvalid for anything but {"keys": [objects]}.
  return createLocalJWKSet(parsed as Parameters<typeof createLocalJWKSet>[0]);
}

// Module scope: keys are the same for every request of the isolate, and holding them is what
// makes a verification cost no round trip. Keyed by URL, for an operator who changes it.
const keySets = new Map<string, KeySet>();

export function keySetFor(url: string): Pick<KeySet, "getKey"> {
  let keySet = keySets.get(url);
  if (!keySet) {
    keySet = new KeySet(url);
    keySets.set(url, keySet);
  }
  return keySet;
}
