/** A minimal XML writer for Plivo's answer documents: elements, attributes and escaped text, nothing else. */
export interface XmlElement {
  name: string;
  attributes?: Record<string, string | number | boolean | undefined>;
  children?: XmlNode[];
}

export type XmlNode = XmlElement | string;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const entity = (char: string) => ENTITIES[char] ?? char;
// Most text needs no escaping: one test, and a replace only when it does (an answer renders ~40 nodes).
const escapeText = (text: string) => (/[&<>]/.test(text) ? text.replace(/[&<>]/g, entity) : text);
const escapeAttribute = (text: string) => (/[&<>"]/.test(text) ? text.replace(/[&<>"]/g, entity) : text);

export const el = (
  name: string,
  attributes: XmlElement['attributes'] = {},
  ...children: XmlNode[]
): XmlElement => ({
  name,
  attributes,
  children,
});

export function renderXml(node: XmlNode): string {
  if (typeof node === 'string') return escapeText(node);
  let attributes = '';
  for (const [key, value] of Object.entries(node.attributes ?? {}))
    if (value !== undefined) attributes += ` ${key}="${escapeAttribute(String(value))}"`;
  const children = node.children ?? [];
  if (children.length === 0) return `<${node.name}${attributes}/>`;
  let inner = '';
  for (const child of children) inner += renderXml(child);
  return `<${node.name}${attributes}>${inner}</${node.name}>`;
}

export const xmlDocument = (root: XmlElement) => `<?xml version="1.0" encoding="UTF-8"?>\n${renderXml(root)}`;
