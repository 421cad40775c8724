/**
 * Text PostgreSQL stores as it is. U+0000 it cannot store at all (text and jsonb refuse it), and a
 * lone surrogate has no UTF-8 form (jsonb refuses it, text keeps U+FFFD instead). What a client
 * sends is refused when it is not storable, since it is stored exactly as sent; what an upstream
 * sends is made storable where it is read, so that nothing Qdrant or the model writes can make a
 * question unanswerable: U+0000 removed, each lone surrogate replaced by U+FFFD.
 */
import { z } from "zod";

/**
 * The check of client text that is stored or hashed. Its problems end the checks, so that those
 * after it (a URL's form) do not name the same problem again.
 */
export const storableText = z.superRefine<string>((value, context) => {
  const refuse = (message: string) => context.addIssue({ code: "custom", message, continue: false });
  if (value.includes("\u0000")) refuse("must not contain U+0000");
  if (!value.isWellFormed()) refuse("must be well-formed Unicode (no lone surrogates)");
});

/** `text` as PostgreSQL can store it; the same string when it already is, as nearly always. */
export function toStorableText(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return wellFormed.includes("\u0000") ? wellFormed.replaceAll("\u0000", "") : wellFormed;
}

/** A JSON value from an upstream, with every string in it, keys too, made storable (for jsonb). */
export function toStorableJson<T>(value: T): T {
  if (typeof value === "string") return toStorableText(value) as T;
  if (Array.isArray(value)) return value.map(toStorableJson) as T;
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [toStorableText(key), toStorableJson(inner)]),
  ) as T;
}

/**
 * Makes a text that arrives in pieces storable piece by piece, so that the pieces passed on add
 * up to exactly what toStorableText makes of the whole. A provider may split a surrogate pair
 * between two pieces: a piece's trailing high surrogate is held back until the next piece shows
 * whether its low half follows, and becomes U+FFFD if the text ends without it.
 */
export class StorableTextStream {
  #heldHighSurrogate = "";

  /** The storable text of `piece` (possibly ""), after what the previous piece held back. */
  push(piece: string): string {
    let text = this.#heldHighSurrogate.length > 0 ? this.#heldHighSurrogate + piece : piece;
    this.#heldHighSurrogate = "";
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.#heldHighSurrogate = text.slice(-1);
      text = text.slice(0, -1);
    }
    return toStorableText(text);
  }

  /** What is left when the text ends: U+FFFD for a high surrogate held back, or "". */
  end(): string {
    const rest = this.#heldHighSurrogate.length > 0 ? "\ufffd" : "";
    this.#heldHighSurrogate = "";
    return rest;
  }
}
