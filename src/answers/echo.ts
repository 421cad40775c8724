import type { Responder } from "./responder";

/** Stands in for the model when none is configured, and says so in every answer. */
export const echoResponder: Responder = {
  name: "echo",
  async answer({ question, onDelta }) {
    const text = `[echo: no answer model is configured] You asked: ${question}`;
    onDelta?.(text);
    return { text, sources: [], metadata: { model: "echo", retrieval: "none" } };
  },
};
