// A sign-in provider for the benchmarks, as small as one can be: an Ed25519 key pair made with
// jose, its public half served as a key set (JWKS) at GET /jwks on a free 127.0.0.1 port, and
// tokens signed with it for the readers a bench names. The service under wrangler dev is pointed
// at it with the settings authVars() returns, and verifies the tokens exactly as it verifies
// Better Auth's (EdDSA, the default of Better Auth's JWT plugin). It counts the key set's fetches,
// so a bench can show that verifying a token costs no request to the provider once the keys are
// kept. close() stops it; the benches call it from BenchStack.beforeStop.
import http from "node:http";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const ALGORITHM = "EdDSA";
const KEY_ID = "bench-key-1";

/**
 * @typedef {{
 *   issuer: string,
 *   audience: string,
 *   jwksUrl: string,
 *   authVars: () => Record<string, string>,
 *   tokenFor: (subject: string) => Promise<string>,
 *   fetches: () => number,
 *   close: () => Promise<void>,
 * }} BenchIssuer
 */

/** @returns {Promise<BenchIssuer>} */
export async function startBenchIssuer() {
  const { publicKey, privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const keySet = JSON.stringify({
    keys: [{ ...(await exportJWK(publicKey)), kid: KEY_ID, alg: ALGORITHM, use: "sig" }],
  });
  let fetches = 0;
  /** @type {Set<import("node:net").Socket>} */
  const sockets = new Set();
  const server = http.createServer((request, response) => {
    if (request.method !== "GET" || request.url !== "/jwks") {
      response.writeHead(404).end();
      return;
    }
    fetches++;
    response.writeHead(200, { "Content-Type": "application/json" }).end(keySet);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(undefined));
  });
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  const issuer = `http://127.0.0.1:${port}`;
  const audience = issuer;
  const jwksUrl = `${issuer}/jwks`;
  return {
    issuer,
    audience,
    jwksUrl,
    authVars: () => ({ AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience }),
    // An hour, as the tests' Better Auth tokens: longer than any bench run.
    tokenFor: (subject) =>
      new SignJWT({})
        .setProtectedHeader({ alg: ALGORITHM, kid: KEY_ID, typ: "JWT" })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject)
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(privateKey),
    fetches: () => fetches,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve(undefined));
      }),
  };
}
