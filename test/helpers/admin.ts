import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call } from "./http";

/** The token the test pool's Worker is configured with (vitest.config.ts). */
export const adminToken = env.ADMIN_TOKEN;

/** A request to the admin API bearing the admin token (or `token`). */
export function callAdmin(path: string, init: RequestInit = {}, token: string = adminToken): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${token}`);
  return call(path, { ...init, headers });
}

/** GET on the admin API, expecting 200; its JSON. */
export async function readAdmin<T>(path: string): Promise<T> {
  const response = await callAdmin(path);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as T;
}
