/**
 * Checks a real response against the service's OpenAPI document: its status is listed for the
 * operation, its content type is one the operation declares, its body validates against the
 * declared schema (each event of a stream against that event's schema), every header the document
 * requires is there, and every header of ours the service sent is declared. @cfworker/json-schema
 * validates without generating code, which workerd does not allow.
 */
import { Validator } from "@cfworker/json-schema";
import { expect } from "vitest";
import { parseServerSentEvents } from "../../src/server-sent-events";

type Json = Record<string, any>;

const documentUri = "https://service.test/openapi.json";

/** Headers that the service itself sets and that the document must therefore declare. */
const ourHeaders = [
  "x-request-id",
  "x-session-id",
  "retry-after",
  "allow",
  "accept",
  "content-disposition",
  "www-authenticate",
  "cache-control",
  "content-security-policy",
  "x-content-type-options",
  "x-frame-options",
  "strict-transport-security",
  "referrer-policy",
  "cross-origin-resource-policy",
  "cross-origin-opener-policy",
  "origin-agent-cluster",
  "x-dns-prefetch-control",
  "x-download-options",
  "x-permitted-cross-domain-policies",
  "x-xss-protection",
  "x-vercel-ai-ui-message-stream",
];

export function documentChecker(document: Json) {
  const pointer = (...parts: string[]) =>
    `${documentUri}#/${parts.map((part) => part.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;

  // One validator per schema: adding the document to a validator reads all of it, which a
  // property test checking hundreds of responses would otherwise pay for each time.
  const validators = new Map<string, Validator>();
  function validate(schemaPointer: string, value: unknown, what: string) {
    let validator = validators.get(schemaPointer);
    if (!validator) {
      validator = new Validator({ $ref: schemaPointer }, "2020-12", false);
      validator.addSchema({ ...document, $id: documentUri }, documentUri);
      validators.set(schemaPointer, validator);
    }
    const result = validator.validate(value);
    expect(result.errors.slice(0, 5), `${what}: ${JSON.stringify(value).slice(0, 300)}`).toEqual([]);
  }

  function resolveHeader(header: Json): Json {
    if (!header.$ref) return header;
    const name = String(header.$ref).split("/").pop()!;
    return document.components.headers[name];
  }

  /**
   * Asserts that `response` (already read into `body`) is what the document says `method` on the
   * documented `path` (e.g. "/api/sessions/{session_uuid}") answers.
   */
  return function expectDocumented(method: string, path: string, response: Response, body: string) {
    const what = `${method} ${path} → ${response.status}`;
    const operation = document.paths[path]?.[method.toLowerCase()];
    expect(operation, `${method} ${path} is documented`).toBeDefined();
    const documented = operation.responses[String(response.status)];
    expect(documented, `${what} is a documented status`).toBeDefined();

    const declared = new Map(
      Object.entries(documented.headers ?? {}).map(([name, header]) => [
        name.toLowerCase(),
        resolveHeader(header as Json),
      ]),
    );
    for (const [name, header] of declared) {
      if (header.required) expect(response.headers.has(name), `${what} sends the required header ${name}`).toBe(true);
    }
    for (const name of ourHeaders) {
      if (response.headers.has(name))
        expect(declared.has(name), `${what} declares the header ${name} it sends`).toBe(true);
    }

    if (!documented.content) {
      expect(body, `${what} has no body`).toBe("");
      return;
    }
    const mediaType = (response.headers.get("Content-Type") ?? "").split(";")[0]!.trim();
    const content = documented.content[mediaType];
    expect(content, `${what} declares the content type ${mediaType}`).toBeDefined();
    const base = ["paths", path, method.toLowerCase(), "responses", String(response.status), "content", mediaType];
    if (mediaType === "text/event-stream") {
      const events = String(content.schema.$ref).split("/").pop()!;
      const sent = parseServerSentEvents(body);
      // A stream whose last event's data is a sentinel that is not JSON (the UI message stream's
      // [DONE]) names it in x-end.
      const end = document.components.schemas[events]["x-end"];
      if (end !== undefined) expect(sent.pop()?.data, `${what} ends with ${end}`).toBe(end);
      for (const { event, data: text } of sent) {
        const data = JSON.parse(text);
        expect(
          document.components.schemas[events]["x-events"][event],
          `${what}: event ${event} is documented`,
        ).toBeDefined();
        validate(pointer("components", "schemas", events, "x-events", event), data, `${what}: event ${event}`);
      }
    } else if (mediaType.endsWith("json")) {
      validate(pointer(...base, "schema"), JSON.parse(body), what);
    }
  };
}
