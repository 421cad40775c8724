/** The problem responses of an operation, from the problem codes its route and middleware declared. */
import { type ProblemCode, problemStatus, retryAfterSeconds } from "../http/problem";
import type { Json, OperationPart } from "./declarations";
import { headers } from "./headers";
import { schemaRef } from "./schemas";

// Within a status, the codes of the gates a request meets first (the admin switch, the reader's
// token) come first, then the others in the order of the table of problems (http/problem.ts).
const gatesFirst: ProblemCode[] = ["not_found", "auth_unavailable"];
const listingOrder = [
  ...gatesFirst,
  ...(Object.keys(problemStatus) as ProblemCode[]).filter((code) => !gatesFirst.includes(code)),
];

/** The problem responses an operation can give, grouped by status as OpenAPI wants them. */
export function problems(
  codes: ReadonlySet<ProblemCode>,
  { problemHeaders = {}, meaning = {}, noStoreProblems = false }: OperationPart,
): Json {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of listingOrder.filter((code) => codes.has(code))) {
    byStatus.set(problemStatus[code], [...(byStatus.get(problemStatus[code]) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, grouped]) => {
      const extra = [
        ...grouped.flatMap((code) => [
          ...(retryAfterSeconds[code] === undefined ? [] : ["Retry-After"]),
          ...(problemHeaders[code] ?? []),
        ]),
        // The gate's own refusals (the token, the rate limit) come before it lets a request through.
        ...(noStoreProblems && status !== 401 && status !== 429 ? ["Cache-Control"] : []),
      ];
      return [
        String(status),
        {
          description: `Problem: ${grouped.map((code) => (meaning[code] ? `${code} (${meaning[code]})` : code)).join(", ")}`,
          headers: headers(...new Set(extra)),
          content: { "application/problem+json": { schema: schemaRef("Problem") } },
        },
      ];
    }),
  );
}
