/**
 * What the tests' key-set server (./issuer-jwks.ts) answers for one key, shared by the server
 * (Node) and the tests (workerd): type declarations only, so either runtime can import it.
 */
export type JwksScenario = {
  /** The public keys served, as JWKs. */
  keys?: unknown[];
  /** Waits this long before answering. */
  delayMs?: number;
  /** Answers with this status (and no key set) instead. */
  status?: number;
  /** Answers 200 with this body instead of {"keys": […]}. */
  body?: string;
  /** Destroys the socket without an HTTP response, as an issuer that went away would. */
  destroy?: boolean;
};
