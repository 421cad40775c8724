/** The HTTP calls to the services an answer depends on, and how their failures are described. */

export type UpstreamService = "model" | "embeddings" | "qdrant";

/** A failure of a service the answer depends on, described without URLs or credentials. */
export class UpstreamError extends Error {
  constructor(service: UpstreamService, problem: string, options?: { cause?: unknown }) {
    super(`${service}: ${problem}`, options);
    this.name = "UpstreamError";
  }
}

/**
 * POSTs a JSON body and returns the successful response. A refused connection or an HTTP error
 * becomes an UpstreamError; an aborted call rejects with the signal's reason (e.g. the deadline).
 */
export async function postJson(
  service: UpstreamService,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignal,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new UpstreamError(service, "could not be reached", { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UpstreamError(service, `answered HTTP ${response.status}`);
  }
  return response;
}

/**
 * The JSON body of a service we do not control. `T` is the shape we hope for, written with
 * optional members and `unknown` leaves, so the caller has to check every value it uses.
 */
export async function readJson<T extends object>(service: UpstreamService, response: Response): Promise<T | null> {
  try {
    return await response.json<T | null>();
  } catch (error) {
    throw new UpstreamError(service, "answered with malformed JSON", { cause: error });
  }
}
