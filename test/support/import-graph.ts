import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@babel/parser';

/**
 * The project's own import graph, for the layering test (test/unit/layers.test.ts): every import, re-export and
 * dynamic import of every source file, type-only ones included (they tie the layers as much as values do),
 * resolved through package.json's "imports" aliases. Parsed with Babel, not matched with patterns, so a
 * comment or a string that looks like an import is not one.
 */
export interface ImportEdge {
  from: string;
  /** The specifier as written, e.g. `#store/store.ts` or `./xml.ts`. */
  specifier: string;
  /** The imported file relative to the project root; undefined for packages and node: built-ins. */
  to: string | undefined;
  line: number;
}

const SOURCE = /\.(ts|mts|mjs|js)$/;

export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'out') walk(rel);
      } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(rel);
    }
  };
  for (const folder of folders) if (existsSync(path.join(root, folder))) walk(folder);
  return files.sort();
}

/** Every module specifier `source` names, with its line. */
export function specifiersOf(source: string, fileName: string): Array<{ specifier: string; line: number }> {
  const ast = parse(source, {
    sourceType: 'module',
    sourceFilename: fileName,
    plugins: fileName.endsWith('ts') ? ['typescript'] : [],
  });
  const found: Array<{ specifier: string; line: number }> = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    const n = node as { type?: string; source?: { value?: unknown }; loc?: { start: { line: number } } };
    const line = n.loc?.start.line ?? 0;
    if (
      (n.type === 'ImportDeclaration' ||
        n.type === 'ExportNamedDeclaration' ||
        n.type === 'ExportAllDeclaration' ||
        n.type === 'ImportExpression') &&
      typeof n.source?.value === 'string'
    )
      found.push({ specifier: n.source.value, line });
    // import('x') as Babel 8 parses it, and `typeof import('x')` in a type.
    if (n.type === 'TSImportType') {
      const argument = (n as { argument?: { value?: unknown; literal?: { value?: unknown } } }).argument;
      const value = argument?.literal?.value ?? argument?.value;
      if (typeof value === 'string') found.push({ specifier: value, line });
    }
    for (const [key, child] of Object.entries(node)) {
      if (key !== 'loc' && key !== 'start' && key !== 'end' && child && typeof child === 'object')
        visit(child);
    }
  };
  visit(ast.program);
  return found;
}

/** Resolves a specifier from `from` to a project file (relative to the root), or undefined for a package. */
export function resolveSpecifier(
  aliases: Record<string, string>,
  from: string,
  specifier: string,
): string | undefined {
  if (specifier.startsWith('.'))
    return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  if (!specifier.startsWith('#')) return undefined;
  for (const [pattern, target] of Object.entries(aliases)) {
    const prefix = pattern.replace(/\*$/, '');
    if (pattern.endsWith('*') ? specifier.startsWith(prefix) : specifier === pattern) {
      const resolved = target.replace('*', specifier.slice(prefix.length));
      return path.posix.normalize(resolved);
    }
  }
  throw new Error(`${from}: ${specifier} matches no "imports" alias in package.json`);
}

export function importGraph(root: string, folders: readonly string[]): ImportEdge[] {
  const aliases = (
    JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      imports: Record<string, string>;
    }
  ).imports;
  const edges: ImportEdge[] = [];
  const seen = new Set<string>();
  const queue = sourceFiles(root, folders);
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { specifier, line } of specifiersOf(readFileSync(path.join(root, file), 'utf8'), file)) {
      const to = resolveSpecifier(aliases, file, specifier);
      if (to !== undefined && !existsSync(path.join(root, to)))
        throw new Error(`${file}:${line}: ${specifier} names no file (${to})`);
      edges.push({ from: file, specifier, to, line });
      // Files outside the checked folders that they import (test/support) join the cycle check.
      if (to && SOURCE.test(to)) queue.push(to);
    }
  }
  return edges;
}

/** Each import cycle once, as the files around it (Tarjan's strongly connected components). */
export function cycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    if (!to) continue;
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const connect = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const target of next.get(node) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(node, Math.min(low.get(node) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) as number, index.get(target) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfImport = (next.get(node) ?? []).includes(node);
      if (component.length > 1 || selfImport) found.push(component.sort());
    }
  };
  for (const node of next.keys()) if (!index.has(node)) connect(node);
  return found;
}
