// The bounds of what a read takes (docs/api.md §1, §13): times a query may name and integers in
// plain digits. Calls the Worker's fetch handler.
import { describe, expect, it } from "vitest";
import { callAdmin } from "./helpers/admin";
import { openSql } from "./helpers/database";
import { call, expectProblem } from "./helpers/http";
import { seedConversation } from "./helpers/seed";

/** base64url of a cursor's text, as the API encodes its cursors. */
function cursorOf(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function expectNamed(response: Response, path: string): Promise<void> {
  const problem = await expectProblem(response, 400, "validation_error");
  expect(problem.errors?.map((error) => error.path)).toEqual([path]);
}

describe("times a query names", () => {
  it.each([
    ["/api/admin/sessions?from=0000-01-01", "from"],
    ["/api/admin/sessions?to=0001-01-01", "to"],
    ["/api/admin/sessions?from=1999-12-31T23:59:59.999Z", "from"],
    ["/api/admin/sessions?to=9999-12-31T23:59:59-01:00", "to"],
    ["/api/admin/stats?to=0001-01-01", "to"],
    ["/api/admin/stats?from=0000-01-01&to=2026-01-01", "from"],
    ["/api/admin/stats?from=1969-12-31&to=2026-01-02", "from"],
    [`/api/admin/sessions?cursor=${cursorOf("v1:s:-999999999999999:1")}`, "cursor"],
    [`/api/admin/sessions?cursor=${cursorOf(`v1:s:${Date.UTC(1999, 11, 31)}:1`)}`, "cursor"],
    [`/api/admin/sessions?cursor=${cursorOf("v1:s:999999999999999:1")}`, "cursor"],
  ])("outside 2000 to 9999 are 400 validation_error naming the parameter: %s", async (path, parameter) => {
    await expectNamed(await callAdmin(path), parameter);
  });

  it("takes the range's ends, and a default start that would fall before 2000 starts at 2000", async () => {
    for (const path of [
      "/api/admin/sessions?from=2000-01-01&to=9999-12-31T23:59:59.999Z",
      `/api/admin/sessions?cursor=${cursorOf(`v1:s:${Date.UTC(2000, 0, 1)}:1`)}`,
    ]) {
      const response = await callAdmin(path);
      expect(response.status, await response.text()).toBe(200);
    }
    const stats = await callAdmin("/api/admin/stats?to=2000-01-11");
    expect(stats.status).toBe(200);
    const body = await stats.json<{ from: string; to: string; buckets: unknown[] }>();
    expect(body).toMatchObject({ from: "2000-01-01T00:00:00.000Z", to: "2000-01-11T00:00:00.000Z" });
    expect(body.buckets).toHaveLength(10);
  });
});

describe("integers a query names", () => {
  const loose = ["0x10", "1e3", "+5", "%205", "%20%205", "5%20", "0b1", "5.0", "1_0", "Infinity"];
  const routes = (session: string) => [
    { path: `/api/sessions/${session}/messages?limit=`, parameter: "limit", admin: false },
    { path: `/api/ui/chat/${session}/messages?limit=`, parameter: "limit", admin: false },
    { path: `/api/admin/sessions/${session}?limit=`, parameter: "limit", admin: true },
    { path: "/api/admin/sessions?limit=", parameter: "limit", admin: true },
    { path: "/api/admin/sessions?min_messages=", parameter: "min_messages", admin: true },
    { path: "/api/admin/search?q=zmp&limit=", parameter: "limit", admin: true },
  ];

  it("are plain decimal digits: hex, exponents, signs, spaces are 400 validation_error naming the parameter", async () => {
    const { sessionUuid } = await seedConversation(openSql(), {
      createdAt: new Date(),
      turns: [{ question: "Digits only?", at: new Date() }],
    });
    for (const { path, parameter, admin } of routes(sessionUuid)) {
      for (const value of loose) {
        const response = await (admin ? callAdmin : call)(`${path}${value}`);
        const problem = await expectProblem(response, 400, "validation_error");
        expect(
          problem.errors?.map((error) => error.path),
          `${path}${value}`,
        ).toEqual([parameter]);
      }
      const plain = await (admin ? callAdmin : call)(`${path}5`);
      expect(plain.status, `${path}5: ${await plain.text()}`).toBe(200);
    }
  });
});
