/**
 * A real sign-in provider, as the book's site would run it: Better Auth in Node with its memory
 * adapter, email and password, and its JWT plugin, on 127.0.0.1. The service verifies the tokens
 * it issues through its own JWKS endpoint (/api/auth/jwks): EdDSA (Ed25519), `iss` and `aud` both
 * its base URL, and the whole user row (email, name) in the payload, of which the service may keep
 * only `iss` and `sub`.
 *
 * Runs in Node (the vitest global setup starts it; test/fakes/book-site.mjs too, with the book's
 * page). Listens before Better Auth is built, so that its base URL names the port it really has.
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

/** A reader signed up with the issuer, and a token of theirs. */
export type IssuedReader = { email: string; subject: string; token: string };

/** A file the site serves besides Better Auth's routes, by its path. */
export type SitePage = { type: string; body: string | Uint8Array };

/**
 * Long enough for a whole test run; Better Auth's default is 15 minutes, which a slow run on a
 * loaded machine could outlast.
 */
const tokenLifetime = "1h";

/**
 * @param pages served on the issuer's own origin, as a book site serves its pages next to its
 * sign-in: a page there signs in with the session cookie, as a reader would.
 */
export async function startIssuer({ pages = {} }: { pages?: Record<string, SitePage> } = {}) {
  const server = createServer();
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = betterAuth({
    baseURL,
    secret: "test-issuer-secret-3c9f1e7a5b2d4f6e8a0c",
    // The memory adapter needs each table declared, the JWT plugin's `jwks` included.
    database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
    emailAndPassword: { enabled: true },
    trustedOrigins: [baseURL],
    telemetry: { enabled: false },
    plugins: [jwt({ jwt: { expirationTime: tokenLifetime } })],
  });
  const authHandler = toNodeHandler(auth);
  server.on("request", (request, response) => {
    const page = pages[new URL(request.url ?? "/", baseURL).pathname];
    if (request.method === "GET" && page) return response.writeHead(200, { "Content-Type": page.type }).end(page.body);
    return authHandler(request, response);
  });

  /** Signs a reader up, as the site's sign-up form would, and asks for their token. */
  async function signUp(email: string, name: string): Promise<IssuedReader> {
    const headers = { "Content-Type": "application/json", Origin: baseURL };
    const signedUp = await fetch(`${baseURL}/api/auth/sign-up/email`, {
      method: "POST",
      headers,
      body: JSON.stringify({ email, name, password: "correct-horse-battery-staple" }),
    });
    if (!signedUp.ok) throw new Error(`the test issuer's sign-up answered ${signedUp.status}`);
    const { user } = (await signedUp.json()) as { user: { id: string } };
    const cookie = signedUp.headers
      .getSetCookie()
      .map((line) => line.split(";")[0])
      .join("; ");
    const issued = await fetch(`${baseURL}/api/auth/token`, { headers: { cookie, Origin: baseURL } });
    if (!issued.ok) throw new Error(`the test issuer's token endpoint answered ${issued.status}`);
    const { token } = (await issued.json()) as { token: string };
    return { email, subject: user.id, token };
  }

  return {
    /** Better Auth's base URL: its tokens' `iss` and `aud`. */
    url: baseURL,
    jwksUrl: `${baseURL}/api/auth/jwks`,
    signUp,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
