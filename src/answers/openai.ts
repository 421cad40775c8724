/**
 * The two calls of an OpenAI-compatible API the service makes: /embeddings and
 * /chat/completions (plain or streamed as server-sent events).
 */
import type { ModelConfig } from "../config";
import { postJson, readJson, UpstreamError } from "./upstream";

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };
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

export async function complete(config: ModelConfig, messages: ChatMessage[], signal: AbortSignal): Promise<Completion> {
  const response = await post(config, "/chat/completions", { model: config.model, messages }, signal, "model");
  const body = await readJson<CompletionBody>("model", response);
  const text = body?.choices?.[0]?.message?.content;
  if (typeof text !== "string") throw new UpstreamError("model", "the answer holds no message content");
  return { text, model: typeof body?.model === "string" ? body.model : config.model, usage: body?.usage ?? null };
}

/**
 * Streams a completion, handing each content delta to `onDelta` as it arrives. Returns the whole
 * text when the model finishes; a stream that ends without `[DONE]` is an error.
 */
export async function streamCompletion(
  config: ModelConfig,
  messages: ChatMessage[],
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
  for await (const data of serverSentData(response.body, signal)) {
    if (data === "[DONE]") return { text, model, usage };
    let chunk: CompletionChunk;
    try {
      chunk = JSON.parse(data);
    } catch (error) {
      throw new UpstreamError("model", "the streamed answer holds malformed JSON", { cause: error });
    }
    if (typeof chunk.model === "string") model = chunk.model;
    if (chunk.usage) usage = chunk.usage;
    const delta = chunk.choices?.[0]?.delta?.content;
    if (typeof delta === "string" && delta.length > 0) {
      text += delta;
      onDelta(delta);
    }
  }
  throw new UpstreamError("model", "the streamed answer ended before it was complete");
}

/** The `data:` payloads of a text/event-stream body, one per event. */
async function* serverSentData(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", cancel);
  let buffer = "";
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new UpstreamError("model", "the streamed answer was cut off", { cause: error });
      }
      if (signal.aborted) throw signal.reason;
      if (chunk.done) return;
      buffer += chunk.value.replace(/\r\n?/g, "\n");
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) yield data;
      }
    }
  } finally {
    signal.removeEventListener("abort", cancel);
    cancel();
  }
}
