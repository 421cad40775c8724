/**
 * Builders of the page's elements. Every element is made with createElement/createElementNS and
 * filled with textContent or text nodes: the page's Trusted Types policy refuses any HTML string,
 * so text from a conversation can never become markup.
 */

/** An element of the page (src/routes/admin-page.tsx); one it lacks is a bug, so it throws. */
export function byId(id: string): HTMLElement;
export function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T;
export function byId(id: string, type: { new (): HTMLElement; prototype: HTMLElement } = HTMLElement): HTMLElement {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return node;
}

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string | null,
  text?: string | number | null,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const svgNamespace = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(svgNamespace, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** The fields of a form that are filled in, by their names (the names the admin API's parameters have). */
export function formFields(formId: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of new FormData(byId(formId, HTMLFormElement)).entries()) {
    if (typeof value === "string" && value !== "") fields[name] = value;
  }
  return fields;
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** A source's title, linked only when its URL is http(s): a stored URL is never trusted to be one. */
export function sourceLink(title: string | null, url: string | null): HTMLElement {
  const text = title || url || "(untitled)";
  if (!url || !/^https?:\/\//i.test(url)) return element("span", null, text);
  const link = element("a", null, text);
  link.href = url;
  link.rel = "noopener noreferrer";
  link.target = "_blank";
  return link;
}
