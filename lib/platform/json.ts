/**
 * Finds the first key repeated within one JSON object. JSON.parse keeps the last of duplicate keys silently,
 * which lets a request say two things at once (one to a validating proxy, another to us); we refuse those.
 * Call only on text JSON.parse accepted: this scanner assumes well-formed input.
 */
export function findDuplicateKey(text: string): string | undefined {
  const objects: Array<Set<string> | null> = []; // null marks an array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = objects.at(-1);
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = end;
    } else if (ch === '{') {
      objects.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      objects.push(null);
    } else if (ch === '}' || ch === ']') {
      objects.pop();
    } else if (ch === ',') {
      expectKey = objects.at(-1) != null;
    }
  }
  return undefined;
}

/** JSON with object keys sorted at every depth: equal documents give equal text, whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
