/** How the page writes numbers and times: grouped digits, and UTC, as the admin API counts. */

const formatter = new Intl.NumberFormat("en");

/** A count or measure; "—" for none (a percentile of no answers is null). */
export function number(value: unknown): string {
  return typeof value === "number" ? formatter.format(value) : "—";
}

/** To the minute: "2026-11-23 20:15 UTC". */
export function utc(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
