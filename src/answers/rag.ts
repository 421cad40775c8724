/**
 * The retrieval-augmented responder: embed the question, search Qdrant, and let the model answer
 * from the passages and the conversation so far.
 */
import type { ModelConfig, RetrievalConfig } from "../config";
import { complete, embed, streamCompletion } from "./openai";
import { buildPrompt } from "./prompt";
import { type Passage, searchPassages } from "./qdrant";
import type { Responder } from "./responder";

export function createRagResponder(model: ModelConfig, retrieval: RetrievalConfig | null): Responder {
  return {
    name: `openai-compatible:${model.model}${retrieval ? "+qdrant" : ""}`,
    async answer({ question, history, signal, onDelta }) {
      const started = Date.now();
      let passages: Passage[] | null = null;
      if (retrieval) {
        const vector = await embed(model, retrieval.embeddingModel, question, signal);
        passages = await searchPassages(retrieval, vector, signal);
      }
      const retrievedMs = Date.now() - started;
      const messages = buildPrompt(question, passages, history);
      const completion = onDelta
        ? await streamCompletion(model, messages, signal, onDelta)
        : await complete(model, messages, signal);
      return {
        text: completion.text,
        sources: (passages ?? []).map(({ title, url, snippet, score }) => ({ title, url, snippet, score })),
        metadata: {
          model: completion.model,
          usage: completion.usage,
          latency_ms: Date.now() - started,
          retrieval: retrieval
            ? {
                provider: "qdrant",
                collection: retrieval.collection,
                embedding_model: retrieval.embeddingModel,
                passages: passages!.length,
                latency_ms: retrievedMs,
              }
            : "disabled: QDRANT_URL is not configured",
          history_messages: history.length,
        },
      };
    },
  };
}
