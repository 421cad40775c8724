/**
 * The two calls of an OpenAI-compatible API the service makes: /embeddings and
 * /chat/completions (plain or streamed as server-sent events).
 */
import type { ModelConfig } from "../config";
import { serverSentEventParser } from "../server-sent-events";
import { StorableTextStream, toStorableJson, toStorableText } from "../storable-text";
import { postJson, readJson, UpstreamError } from "./upstream";

/** A message of the prompt, in the API's own terms (the database's messages are db/schema.ts's ChatMessage). */
export type PromptMessage = { role: "system" | "user" | "assistant"; content: string };
export type Usage = { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
export type Completion = { text: string; model: string; usage: Usage | null };

// What we read of the API's answers; see readJson.
type EmbeddingsBody = { data?: { embedding?: unknown }[] };
type CompletionBody = { model?: unknown; usage?: Usage; choices?: { message?: { content?: unknown } }[] };
type CompletionChunk = { model?: unknown; usage?: Usage; choices?: { delta?: { content?: unknown } }[] };

function post(config: ModelConfig, path: string, body: unknown, signal: AbortSignal, service: "model" | "embeddings") {
  const headers: Record<string, string> = config.apiKey ? { Authorization: `Bearer ${config.apiKey}` } : {};
  return postJson(service, `${config.baseUrl}${path}`, headers, body, signal);
}

export async function embed(config: ModelConfig, model: string, input: string, signal: AbortSignal): Promise<number[]> {
  const response = await post(config, "/embeddings", { model, input }, signal, "embeddings");
  const vector = (await readJson<EmbeddingsBody>("embeddings", response))?.data?.[0]?.embedding;
  if (!Array.isArray(vector) || vector.length === 0 || !vector.every((x) => typeof x === "number")) {
    throw new UpstreamError("embeddings", "the answer holds no embedding vector");
  }
  return vector;
}

export async function complete(
  config: ModelConfig,
  messages: PromptMessage[],
  signal: AbortSignal,
): Promise<Completion> {
  const response = await post(config, "/chat/completions", { model: config.model, messages }, signal, "model");
  const body = await readJson<CompletionBody>("model", response);
  const text = body?.choices?.[0]?.message?.content;
  if (typeof text !== "string") throw new UpstreamError("model", "the answer holds no message content");
  return withStorableMetadata({
    text: toStorableText(text),
    model: typeof body?.model === "string" ? body.model : config.model,
    usage: body?.usage ?? null,
  });
}

/** The model's name and usage made storable: they go to the answer's metadata, a jsonb column. */
function withStorableMetadata({ text, model, usage }: Completion): Completion {
  return { text, model: toStorableText(model), usage: toStorableJson(usage) };
}

/**
 * Streams a completion, handing each content delta to `onDelta` as it arrives, made storable: the
 * deltas passed on add up to the text returned. Returns the whole text when the model finishes; a
 * stream that ends without `[DONE]` is an error.
 */
export async function streamCompletion(
  config: ModelConfig,
  messages: PromptMessage[],
  signal: AbortSignal,
  onDelta: (text: string) => void,
): Promise<Completion> {
  const response = await post(
    config,
    "/chat/completions",
    { model: config.model, messages, stream: true, stream_options: { include_usage: true } },
    signal,
    "model",
  );
  if (!response.body) throw new UpstreamError("model", "the streamed answer has no body");
  let text = "";
  let model = config.model;
  let usage: Usage | null = null;
  const pieces = new StorableTextStream();
  const pass = (piece: string) => {
    if (piece.length === 0) return;
    text += piece;
    onDelta(piece);
  };
  // A fast model's tokens arrive many to a read, and they are handled together: an await per read,
  // not per token.
  const events = serverSentEventParser();
  for await (const bytes of gatheredReads(response.body, signal)) {
    for (const { data } of events.push(bytes)) {
      if (data === "") continue;
      if (data === "[DONE]") {
        pass(pieces.end());
        return withStorableMetadata({ text, model, usage });
      }
      let chunk: CompletionChunk;
      try {
        chunk = JSON.parse(data);
      } catch (error) {
        throw new UpstreamError("model", "the streamed answer holds malformed JSON", { cause: error });
      }
      if (typeof chunk.model === "string") model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      const delta = chunk.choices?.[0]?.delta?.content;
      if (typeof delta === "string") pass(pieces.push(delta));
    }
  }
  throw new UpstreamError("model", "the streamed answer ended before it was complete");
}

// A read may wait this long for more of the answer: half the 50 ms over which the answer's pieces
// are batched into events anyway (chat/delta-batcher.ts), so the two together stay close to that.
const readWaitMs = 25;
const largestRead = 32 * 1024;

/**
 * Reads a body in as few reads as the latency allows. A model sends one HTTP chunk per token and
 * a plain read returns one chunk; each read costs the Worker about as much CPU as a small request
 * (draining a 1,000-chunk answer took ~45 ms of Worker CPU read by read, ~8 ms in one text()).
 * workerd's readAtLeast gathers natively what has arrived: while reads return at once (the model
 * is ahead of us) the minimum doubles; while bytes arrive in real time it is what arrives in
 * `readWaitMs`, so a read does not wait much longer than that. The first two reads take one byte,
 * so the first words are passed on as soon as they arrive.
 *
 * The cost: a read waiting for its minimum holds what has arrived. If the model then stops
 * sending without ending its answer, that part is lost when the answer's time limit cancels the
 * read; the reader never saw it, and what is stored as the incomplete answer is what was sent.
 */
async function* gatheredReads(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const reader = body.getReader({ mode: "byob" });
  const cancel = () => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", cancel);
  let atLeast = 1;
  let first = true;
  try {
    for (;;) {
      const asked = Date.now();
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.readAtLeast(atLeast, new Uint8Array(Math.max(2 * atLeast, 16 * 1024)));
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new UpstreamError("model", "the streamed answer was cut off", { cause: error });
      }
      if (signal.aborted) throw signal.reason;
      if (chunk.done) return;
      const waited = Date.now() - asked;
      // The first read's wait is the model's time to its first token, not the pace of the ones
      // after it: gauging from it could ask the next read for more than the model sends before a
      // pause, and hold what did arrive until the pause ends.
      if (!first) {
        const arriving = waited <= 1 ? 2 * atLeast : Math.floor((chunk.value.byteLength * readWaitMs) / waited);
        atLeast = Math.min(Math.max(arriving, 1), largestRead);
      }
      first = false;
      yield chunk.value;
    }
  } finally {
    signal.removeEventListener("abort", cancel);
    cancel();
  }
}
