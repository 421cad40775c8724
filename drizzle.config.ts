import { defineConfig } from "drizzle-kit";

// Only `generate` and `check` use this file; `npm run db:migrate` applies migrations itself
// (scripts/migrate.mjs) because the local database must be started first.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
});
