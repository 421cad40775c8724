/**
 * A signed-in reader: the pair (iss, sub) their sign-in provider vouches for, verified by
 * src/auth/token.ts. Nothing else of the token is kept, stored or logged.
 */
export type Reader = { issuer: string; subject: string };
