/**
 * The fake upstream's scenario language, shared by the server (Node) and the tests (workerd):
 * type declarations only, so either runtime can import it.
 */
export type Failure = {
  /** Answer with this status (and `body`, or a default error body for the upstream). */
  status?: number;
  /** Answer with this raw body (status 200 unless `status` is set); e.g. "not json{". */
  body?: string;
  /** Wait this long before answering (or before hanging/destroying). */
  delayMs?: number;
  /** Never answer; the socket stays open until the client gives up or close() is called. */
  hang?: boolean;
  /** Destroy the socket without an HTTP response. */
  destroy?: boolean;
};

export type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

export type QdrantPoint = { id: number | string; score: number; payload: Record<string, unknown> };

export type Scenario = {
  embeddings?: Failure & { vector?: number[] };
  chat?: Failure & {
    text?: string;
    chunks?: string[];
    chunkDelayMs?: number;
    /** streaming: after this many chunks stop sending but keep the stream open (a stalled model) */
    stallAfterChunks?: number;
    /**
     * streaming: each chunk's text becomes `<t:MS>`, the fake's clock (Date.now()) when it sent it,
     * so that a client on the same machine can tell how long each piece took to reach it.
     */
    stampChunks?: boolean;
    usage?: Usage;
    /** The model named in the answer; the one asked for when absent. */
    model?: string;
  };
  qdrant?: Failure & { collection?: string; points?: QdrantPoint[] };
};

export type RecordedRequest = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
};
