/** A minimal XML writer for Plivo's answer documents: elements, attributes and escaped text, nothing else. */
export interface XmlElement {
  name: string;
  attributes?: Record<string, string | number | boolean | undefined>;
  children?: XmlNode[];
}

export type XmlNode = XmlElement | string;

const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttribute = (text: string) => escapeText(text).replace(/"/g, '&quot;');

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
  const attributes = Object.entries(node.attributes ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` ${key}="${escapeAttribute(String(value))}"`)
    .join('');
  const children = node.children ?? [];
  return children.length === 0
    ? `<${node.name}${attributes}/>`
    : `<${node.name}${attributes}>${children.map(renderXml).join('')}</${node.name}>`;
}

export const xmlDocument = (root: XmlElement) => `<?xml version="1.0" encoding="UTF-8"?>\n${renderXml(root)}`;
