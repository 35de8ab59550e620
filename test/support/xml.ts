import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** A parsed XML element: name, attributes, children in document order, and its text. */
export interface Node {
  name: string;
  attributes: Record<string, string>;
  children: Node[];
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
});

type Raw = Record<string, unknown> & { ':@'?: Record<string, string> };

function toNode(raw: Raw): Node | undefined {
  const name = Object.keys(raw).find((key) => key !== ':@');
  if (!name || name === '#text' || name === '?xml') return undefined;
  const children = ((raw[name] as Raw[]) ?? []).map(toNode).filter((n): n is Node => n !== undefined);
  const text = ((raw[name] as Raw[]) ?? [])
    .map((child) => ('#text' in child ? String(child['#text']) : (toNode(child)?.text ?? '')))
    .join('');
  return { name, attributes: raw[':@'] ?? {}, children, text };
}

/** Parses a Plivo XML document, failing on anything that is not well-formed. */
export function parseXml(xml: string): Node {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`XML is not well-formed: ${JSON.stringify(valid)}`);
  const roots = (parser.parse(xml) as Raw[]).map(toNode).filter((n): n is Node => n !== undefined);
  if (roots.length !== 1 || !roots[0]) throw new Error('expected one root element');
  return roots[0];
}

export function* descendants(node: Node): Generator<Node> {
  for (const child of node.children) {
    yield child;
    yield* descendants(child);
  }
}
