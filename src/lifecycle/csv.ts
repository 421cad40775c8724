/**
 * CSV as RFC 4180 writes it, for a spreadsheet to open (docs/api.md §13.12): records end in CRLF;
 * a field holding a comma, a double quote, CR or LF is quoted, its quotes doubled; every other
 * field is written as it is.
 */

/** A field's value: null is an empty field, a boolean `true` or `false`, a number in JSON's form. */
export type CsvValue = string | number | boolean | null;

/**
 * What makes a spreadsheet read a field as a formula (=, +, -, @, and the tab and CR that Excel
 * skips before them), or as the marker of a cut export (#, see csvCutMarker), or as a text
 * prefix (' itself, so that the prefix can always be taken off again).
 */
const guarded = /^[=+\-@\t\r#']/;

/**
 * One field. A text starting with one of `guarded` gets a leading apostrophe, which a spreadsheet
 * shows as text and never runs as a formula ("=HYPERLINK(…)" in a question stays a question):
 * a program reading the file takes one leading apostrophe off a text field to get the text back.
 * Numbers and booleans are the service's own and never guarded.
 */
export function csvField(value: CsvValue): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const text = guarded.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, with its line end. */
export function csvRecord(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

/**
 * The first field of the line that ends an export cut at its row limit; no data field starts with
 * `#` (csvField guards it), so the line cannot be mistaken for a row.
 */
export const csvCutMarker = "#cut";
