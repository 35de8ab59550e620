import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, type ImportEdge, importGraph } from '../support/import-graph.ts';

/**
 * Imports point down the layers and never close a cycle. lib/'s folders, bottom first (each folder's README.md): each may
 * import only the folders listed for it; the top-level folders may import lib/ and what their row lists.
 * Across folders an import names its layer by alias (`#store/store.ts`), within one folder it is relative, so an
 * import's first word says where it goes.
 */
const LIB_LAYERS: Record<string, readonly string[]> = {
  platform: [],
  store: ['platform'],
  channels: ['platform'],
  abuse: ['platform', 'store', 'channels'],
  verification: ['platform', 'store', 'channels', 'abuse'],
  events: ['platform', 'store', 'channels', 'abuse', 'verification'],
};

/** The top-level folders checked, and what each may import besides lib/ (test/ itself may import anything). */
const TOP_LAYERS: Record<string, readonly string[]> = {
  functions: [],
  infra: [],
  ops: [],
  local: ['functions'],
  // The benchmark builds what deploys, runs the real handlers on the local stack's parts, and sends the
  // tests' own API Gateway events (test/support/events.ts).
  bench: ['functions', 'infra', 'local', 'test/support'],
};

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Where a file sits: `lib/<folder>`, a top-level folder, or test/support. */
function placeOf(file: string): string {
  const [top, second] = file.split('/');
  if (top === 'lib') return `lib/${second}`;
  if (top === 'test' && second === 'support') return 'test/support';
  return top ?? file;
}

/** The rule an edge breaks, if any. */
function violation(edge: ImportEdge): string | undefined {
  if (!edge.to) return undefined;
  const from = placeOf(edge.from);
  const to = placeOf(edge.to);
  const where = `${edge.from}:${edge.line} imports ${edge.specifier}`;
  if (from.startsWith('lib/')) {
    if (!to.startsWith('lib/')) return `${where}: lib/ imports nothing outside lib/`;
    const [fromFolder, toFolder] = [from.slice(4), to.slice(4)];
    const allowed = LIB_LAYERS[fromFolder];
    if (!allowed || !(toFolder in LIB_LAYERS))
      return `${where}: lib/${fromFolder} or lib/${toFolder} has no layer`;
    if (fromFolder === toFolder)
      return edge.specifier.startsWith('./') ? undefined : `${where}: within lib/${fromFolder}, import by ./`;
    if (!allowed.includes(toFolder))
      return `${where}: lib/${fromFolder} may not import lib/${toFolder} (upward)`;
    return edge.specifier.startsWith(`#${toFolder}/`)
      ? undefined
      : `${where}: name lib/${toFolder} as #${toFolder}/`;
  }
  if (from === 'test/support' || !(from in TOP_LAYERS)) return undefined;
  if (to.startsWith('lib/')) {
    const folder = to.slice(4);
    return edge.specifier.startsWith(`#${folder}/`)
      ? undefined
      : `${where}: name lib/${folder} as #${folder}/`;
  }
  if (to === from) return undefined;
  return TOP_LAYERS[from]?.includes(to) ? undefined : `${where}: ${from}/ may not import ${to}/`;
}

describe('layers', () => {
  const edges = importGraph(root, ['lib', ...Object.keys(TOP_LAYERS)]);

  it('reads the whole graph, aliases resolved', () => {
    // A parser that found nothing would pass every rule below.
    expect(edges.filter((edge) => edge.to).length).toBeGreaterThan(400);
    expect(
      edges.some((edge) => edge.specifier === '#platform/config.ts' && edge.to === 'lib/platform/config.ts'),
    ).toBe(true);
    expect(
      edges.some((edge) => edge.from === 'lib/store/store.ts' && edge.to === 'lib/store/verification.ts'),
    ).toBe(true);
  });

  it('every lib/ folder has a layer, and every file a folder', () => {
    const libFiles = new Set(
      edges.flatMap((edge) => [edge.from, edge.to ?? '']).filter((f) => f.startsWith('lib/')),
    );
    for (const file of libFiles) expect(LIB_LAYERS, file).toHaveProperty(file.split('/')[1] as string);
    for (const file of libFiles) expect(file.split('/'), file).toHaveLength(3);
  });

  it('no import runs back up a layer or crosses one without its alias', () => {
    expect(edges.map(violation).filter(Boolean)).toEqual([]);
  });

  it('no import cycle, type-only imports included', () => {
    expect(cycles(edges)).toEqual([]);
  });

  // The rules themselves, on imports that break them.
  it.each([
    ['lib/platform/config.ts', '#store/verification.ts', 'lib/store/verification.ts', 'upward'],
    ['lib/store/store.ts', '#channels/phone.ts', 'lib/channels/phone.ts', 'upward'],
    ['lib/verification/requests.ts', '#events/outcome-events.ts', 'lib/events/outcome-events.ts', 'upward'],
    ['lib/events/webhook-url.ts', '../platform/errors.ts', 'lib/platform/errors.ts', 'as #platform/'],
    ['lib/store/table.ts', '#store/store.ts', 'lib/store/store.ts', 'import by ./'],
    ['lib/platform/config.ts', '../../infra/settings.ts', 'infra/settings.ts', 'nothing outside lib/'],
    ['functions/send.ts', '../lib/verification/views.ts', 'lib/verification/views.ts', 'as #verification/'],
    ['functions/send.ts', '../local/stack.ts', 'local/stack.ts', 'may not import local/'],
    ['infra/api.ts', '../bench/routes.ts', 'bench/routes.ts', 'may not import bench/'],
    ['ops/smoke.ts', '../infra/app.ts', 'infra/app.ts', 'may not import infra/'],
    ['local/stack.ts', '../bench/fixtures.ts', 'bench/fixtures.ts', 'may not import bench/'],
  ])('refuses %s importing %s', (from, specifier, to, rule) => {
    expect(violation({ from, specifier, to, line: 1 })).toContain(rule);
  });

  it.each([
    ['lib/events/stream-events.ts', '#abuse/abuse.ts', 'lib/abuse/abuse.ts'],
    ['lib/store/store.ts', './verification.ts', 'lib/store/verification.ts'],
    ['local/stack.ts', '../functions/send.ts', 'functions/send.ts'],
    ['bench/events.ts', '../test/support/events.ts', 'test/support/events.ts'],
    ['functions/send.ts', 'zod/mini', undefined],
  ])('allows %s importing %s', (from, specifier, to) => {
    expect(violation({ from, specifier, to, line: 1 })).toBeUndefined();
  });

  it('finds a cycle, type-only or not', () => {
    const edge = (from: string, to: string) => ({ from, to, specifier: to, line: 1 });
    expect(cycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')])).toEqual([
      ['a', 'b', 'c'],
    ]);
    expect(cycles([edge('a', 'b'), edge('b', 'c')])).toEqual([]);
  });
});
