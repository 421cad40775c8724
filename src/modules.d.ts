// Modules of wrangler's default rules, which the test pool shares: a `.txt` file is imported as
// its text, a `.bin` file as its bytes (scripts/docs-assets.mjs names Swagger UI's files so).
declare module "*.txt" {
  const text: string;
  export default text;
}

declare module "*.bin" {
  const bytes: ArrayBuffer;
  export default bytes;
}
