import type { AnswerConfig } from "../config";
import { echoResponder } from "./echo";
import { createRagResponder } from "./rag";
import type { Responder } from "./responder";

/** The responder a configuration asks for, or why there is none. */
export type AnswerSetup =
  | { provider: string; responder: Responder; problem: null }
  | { provider: "unavailable"; responder: null; problem: string };

// The configuration is parsed once per environment (readConfig), so its setup is made once too.
const setups = new WeakMap<AnswerConfig, AnswerSetup>();

export function answerSetup(config: AnswerConfig): AnswerSetup {
  let setup = setups.get(config);
  if (!setup) {
    setup = makeSetup(config);
    setups.set(config, setup);
  }
  return setup;
}

function makeSetup(config: AnswerConfig): AnswerSetup {
  switch (config.kind) {
    case "echo":
      return { provider: echoResponder.name, responder: echoResponder, problem: null };
    case "rag": {
      const responder = createRagResponder(config.model, config.retrieval);
      return { provider: responder.name, responder, problem: null };
    }
    case "unavailable":
      return { provider: "unavailable", responder: null, problem: config.problem };
  }
}
