/** The messages the model is given: instruction, the retrieved passages, the conversation so far. */

import type { HistoryMessage } from "../conversation";
import type { PromptMessage } from "./openai";
import type { Passage } from "./qdrant";

export const systemInstruction =
  "You are the assistant of the Humanoid Robotics Book. Answer the reader's questions about " +
  "humanoid robotics clearly and accurately. Ground your answers in the book passages you are " +
  "given and cite them by their number, like [1]. If the passages do not cover the question, say " +
  "so and answer from general knowledge, marking it as such.";

export function buildPrompt(question: string, passages: Passage[] | null, history: HistoryMessage[]): PromptMessage[] {
  const messages: PromptMessage[] = [{ role: "system", content: systemInstruction }];
  if (passages !== null) {
    const context =
      passages.length === 0
        ? "No passage of the book matched this question."
        : passages.map((p, i) => `[${i + 1}] ${p.title}${p.url ? ` (${p.url})` : ""}\n${p.text}`).join("\n\n");
    messages.push({ role: "system", content: `Passages from the book:\n\n${context}` });
  }
  for (const earlier of history) {
    messages.push({ role: earlier.sender === "user" ? "user" : "assistant", content: earlier.message });
  }
  messages.push({ role: "user", content: question });
  return messages;
}
