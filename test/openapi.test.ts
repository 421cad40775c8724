// GET /openapi.json and /docs (docs/api.md §10): the description is generated from the validating
// schemas and covers every route the app serves. Calls the Worker's fetch handler.
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { problemStatus } from "../src/http/problem";
import { call } from "./helpers/http";

type Document = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
  components: { schemas: Record<string, any> };
};

async function openApi(): Promise<Document> {
  const response = await call("/openapi.json");
  expect(response.status).toBe(200);
  return response.json();
}

describe("the OpenAPI description", () => {
  it("is OpenAPI 3.1 and documents every route the app serves", async () => {
    const document = await openApi();
    expect(document.openapi).toBe("3.1.0");
    const served = createApp()
      .routes.filter(
        (route) => !["ALL", "HEAD"].includes(route.method) && !["/openapi.json", "/docs"].includes(route.path),
      )
      .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => key !== "parameters")
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...new Set(served)].sort());
  });

  it("names every problem code of docs/api.md §7 on some operation", async () => {
    const described = JSON.stringify((await openApi()).paths);
    for (const code of Object.keys(problemStatus).filter(
      (c) => !["not_found", "method_not_allowed", "client_closed_request"].includes(c),
    )) {
      expect(described).toContain(code);
    }
  });

  it("describes the chat request with the rules that validate it", async () => {
    const { ChatRequest } = (await openApi()).components.schemas;
    expect(ChatRequest.required).toEqual(["question"]);
    expect(ChatRequest.properties.question).toMatchObject({ type: "string", minLength: 1, maxLength: 8000 });
    const uuidPattern = new RegExp(
      JSON.stringify(ChatRequest.properties.session_uuid)
        .match(/"pattern":"([^"]+)"/)![1]!
        .replace(/\\\\/g, "\\"),
    );
    expect(uuidPattern.test("6F1C1A52-7F5E-4A87-9D2E-3B8F0F3C9A10")).toBe(true);
    expect(uuidPattern.test("{6f1c1a52-7f5e-4a87-9d2e-3b8f0f3c9a10}")).toBe(false);
  });
});

describe("GET /docs", () => {
  it("serves the reference page, which links to /openapi.json in plain HTML and loads only this origin's files", async () => {
    const response = await call("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("text/html");
    const page = await response.text();
    expect(page).toMatch(/<h1>[^<]+<\/h1>/);
    expect(page).toContain('<a href="/openapi.json">');
    expect(page).toContain("<noscript>");
    expect(page).toContain('<script src="/docs/swagger-ui/swagger-ui-bundle.js">');
    expect(page).toContain('<link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css">');
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it("allows only this origin and its one inline script, by hash, and keeps the secure headers", async () => {
    const response = await call("/docs");
    const policy = response.headers.get("Content-Security-Policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    const inline = [...(await response.text()).matchAll(/<script>([^<]*)<\/script>/g)].map((match) => match[1]!);
    expect(inline).toHaveLength(1);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(inline[0]));
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
    expect(policy).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
  });
});
