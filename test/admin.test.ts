// The admin surface's gate (docs/api.md §13.1) and the operators' page (§13.6): 404 without
// ADMIN_TOKEN, the bearer token compared in constant time, 401 with WWW-Authenticate, a rate
// limit per address, no CORS, no token in any log; the page's Content-Security-Policy. Calls
// the Worker's fetch handler, and app instances with ADMIN_TOKEN unset or too short.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { adminToken, callAdmin } from "./helpers/admin";
import { call, callApp, expectProblem } from "./helpers/http";

const adminRequests: [string, string][] = [
  ["GET", "/api/admin/sessions"],
  ["GET", `/api/admin/sessions/${crypto.randomUUID()}`],
  ["GET", "/api/admin/search?q=robot"],
  ["GET", "/api/admin/stats"],
  ["GET", "/api/admin"],
  ["GET", "/api/admin/nothing-here"],
  ["POST", "/api/admin/sessions"],
  ["GET", "/admin"],
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe("without ADMIN_TOKEN", () => {
  it.each([
    ["unset", ""],
    ["shorter than 32 characters", "short-token"],
  ])("every admin path is 404 not_found when the token is %s, with or without credentials", async (_, token) => {
    for (const [method, path] of adminRequests) {
      for (const authorization of [undefined, `Bearer ${token || adminToken}`]) {
        const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
        const { response } = await callApp(createApp(), path, { method, headers }, {
          ADMIN_TOKEN: token,
        } as Partial<Env>);
        const problem = await expectProblem(response, 404, "not_found");
        expect(problem.detail).toBe("there is nothing at this path");
        expect(response.headers.get("WWW-Authenticate")).toBeNull();
      }
    }
  });
});

describe("the admin token", () => {
  it("lets a request with Authorization: Bearer <ADMIN_TOKEN> in, and its answer is never cached", async () => {
    const response = await callAdmin("/api/admin/sessions?limit=1");
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const lowerCase = await call("/api/admin/sessions?limit=1", { headers: { Authorization: `bearer ${adminToken}` } });
    expect(lowerCase.status).toBe(200);
  });

  it("answers 401 unauthorized with a Bearer challenge when the token is missing or not a bearer token", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: `Basic ${btoa(`admin:${adminToken}`)}` },
      { Authorization: "Bearer" },
    ];
    for (const headers of attempts) {
      const response = await call("/api/admin/stats", { headers });
      await expectProblem(response, 401, "unauthorized");
      expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="admin"');
    }
  });

  it("answers 401 with error=invalid_token for a wrong token, however close to the right one", async () => {
    const near = [`${adminToken}x`, adminToken.slice(0, -1), adminToken.toUpperCase(), `${adminToken.slice(0, -1)}0`];
    for (const token of [...near, "x", "a".repeat(5000)]) {
      const response = await callAdmin("/api/admin/stats", {}, token);
      await expectProblem(response, 401, "unauthorized");
      expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="admin", error="invalid_token"');
    }
  });

  it("is compared in constant time: SHA-256 digests of both sides through crypto.subtle.timingSafeEqual", async () => {
    const compare = vi.spyOn(crypto.subtle, "timingSafeEqual");
    expect((await callAdmin("/api/admin/stats", {}, "a-much-shorter-guess")).status).toBe(401);
    expect((await callAdmin("/api/admin/stats")).status).toBe(200);
    expect(compare).toHaveBeenCalledTimes(2);
    for (const [given, expected] of compare.mock.calls) {
      expect((given as ArrayBuffer).byteLength).toBe(32);
      expect((expected as ArrayBuffer).byteLength).toBe(32);
    }
    expect(compare.mock.results.map((result) => result.value)).toEqual([false, true]);
  });

  it("limits admin requests per address: past 120 a minute every request is 429, the right token's too", async () => {
    const address = { "CF-Connecting-IP": `admin-${crypto.randomUUID()}` };
    let status = 0;
    let sent = 0;
    // Twice the limit: the limiter's window may roll over during the loop.
    while (status !== 429 && sent < 250) {
      const response = await callAdmin("/api/admin/stats", { headers: address }, `wrong-guess-${sent++}`);
      status = response.status;
      await response.body?.cancel();
    }
    expect(sent).toBeGreaterThanOrEqual(121);
    const right = await callAdmin("/api/admin/sessions?limit=1", { headers: address });
    await expectProblem(right, 429, "rate_limited");
    expect(right.headers.get("Retry-After")).toBe("60");
  }, 60_000);

  it("never reaches a log line, right or wrong", async () => {
    const written: string[] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => written.push(args.map(String).join(" ")));
    }
    const wrong = `wrong-${crypto.randomUUID()}`;
    expect((await callAdmin("/api/admin/stats", {}, wrong)).status).toBe(401);
    expect((await callAdmin("/api/admin/stats?bucket=week")).status).toBe(400);
    expect((await callAdmin(`/api/admin/sessions/${crypto.randomUUID()}`)).status).toBe(404);
    expect(written.length).toBeGreaterThanOrEqual(3);
    const everything = written.join("\n");
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(adminToken);
    expect(everything).not.toMatch(/authorization|bearer/i);
  });
});

describe("CORS", () => {
  it("grants no origin the admin API, not even one of CORS_ORIGINS, which the public API does grant", async () => {
    const origin = { Origin: "https://book.example" };
    const preflight = (path: string) =>
      call(path, {
        method: "OPTIONS",
        headers: {
          ...origin,
          "Access-Control-Request-Method": "GET",
          "Access-Control-Request-Headers": "authorization",
        },
      });
    const publicPreflight = await preflight("/api/sessions");
    expect(publicPreflight.headers.get("Access-Control-Allow-Origin")).toBe("https://book.example");
    for (const path of ["/api/admin/sessions", "/api/admin/stats", "/admin"]) {
      const answered = await preflight(path);
      expect(answered.status).toBeGreaterThanOrEqual(400);
      expect(answered.headers.get("Access-Control-Allow-Origin"), path).toBeNull();
      expect(answered.headers.get("Access-Control-Allow-Headers"), path).toBeNull();
      const read = await callAdmin(path, { headers: origin });
      expect(read.status, path).toBe(200);
      expect(read.headers.get("Access-Control-Allow-Origin"), path).toBeNull();
      expect(read.headers.get("Vary") ?? "", path).not.toContain("Origin");
      await read.body?.cancel();
    }
  });
});

describe("the operators' page, GET /admin", () => {
  it("is an HTML page whose only script and style carry the nonce of a strict Content-Security-Policy", async () => {
    const response = await call("/admin");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const policy = response.headers.get("Content-Security-Policy") ?? "";
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
    expect(nonce).toBeDefined();
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain(`style-src 'nonce-${nonce}'`);
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("require-trusted-types-for 'script'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const page = await response.text();
    expect(page.startsWith("<!doctype html>")).toBe(true);
    const scripts = [...page.matchAll(/<script([^>]*)>/g)].map((match) => match[1]);
    expect(scripts).toEqual([` nonce="${nonce}"`]);
    const styles = [...page.matchAll(/<style([^>]*)>/g)].map((match) => match[1]);
    expect(styles).toEqual([` nonce="${nonce}"`]);
    expect(page).not.toMatch(/<link|<img|<iframe|\ssrc=|\sstyle=/);
    // No address at all, but the SVG namespace the charts are created in.
    expect(page.replaceAll("http://www.w3.org/2000/svg", "")).not.toMatch(/https?:\/\/\w/);
    expect(page).toContain("sessionStorage");
    const next = await call("/admin");
    expect(next.headers.get("Content-Security-Policy")).not.toContain(nonce);
  });
});
