import { createMiddleware } from "hono/factory";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { bearerToken } from "../http/bearer";
import { notFound, unauthorized } from "../http/problem";
import { documented } from "../openapi/declarations";

/**
 * The admin surface exists only while ADMIN_TOKEN is set: without it every admin path, the page
 * included, answers 404 as a path that was never there would.
 */
export const adminEnabled = () =>
  documented(
    createMiddleware<AppEnv>(async (c, next) => {
      if (!readConfig(c.env).adminToken) throw notFound();
      await next();
    }),
    { problems: ["not_found"] },
  );

/**
 * Lets through only requests bearing the admin token (`Authorization: Bearer <ADMIN_TOKEN>`).
 * Mounted after the rate limit, so guesses are limited per address, and an address over the
 * limit cannot tell a right guess from a wrong one. Admin answers hold conversations: no cache
 * may keep them.
 */
export const adminAuth = () =>
  documented(
    createMiddleware<AppEnv>(async (c, next) => {
      const expected = readConfig(c.env).adminToken;
      if (!expected) throw notFound();
      const given = bearerToken(c.req.header("Authorization"));
      if (given === null) throw unauthorized("this needs the admin token: Authorization: Bearer <ADMIN_TOKEN>", null);
      if (!(await sameToken(given, expected))) throw unauthorized("the admin token is not valid", "invalid_token");
      await next();
      c.header("Cache-Control", "no-store");
    }),
    {
      problems: ["unauthorized", "not_found"],
      problemHeaders: { unauthorized: ["WWW-Authenticate"] },
      security: [{ adminToken: [] }],
      noStoreProblems: true,
    },
  );

const encoder = new TextEncoder();
let expectedDigest: { token: string; digest: Promise<ArrayBuffer> } | undefined;

/**
 * Compares in time that depends on neither token: both are hashed (SHA-256) and the digests,
 * always 32 bytes, compared with workerd's crypto.subtle.timingSafeEqual, which reads every byte
 * whatever it finds. Comparing the tokens themselves would also give away the expected length.
 * The expected token's digest is computed once per isolate.
 */
export async function sameToken(given: string, expected: string): Promise<boolean> {
  if (expectedDigest?.token !== expected) {
    expectedDigest = { token: expected, digest: crypto.subtle.digest("SHA-256", encoder.encode(expected)) };
  }
  const [a, b] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(given)), expectedDigest.digest]);
  return crypto.subtle.timingSafeEqual(a, b);
}
