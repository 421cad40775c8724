/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1); null for any other form. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? "");
  return match ? match[1]! : null;
}
