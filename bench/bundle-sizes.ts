import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BuiltBundle } from './build-bundles.ts';

/** A bundle's size as Node parses it (minified) and as it travels (gzip), and which packages make it up. */
export interface BundleSize {
  name: BuiltBundle['name'];
  bytes: number;
  gzipBytes: number;
  sourceMapBytes: number;
  /** Bytes of output per package (from esbuild's metafile), largest first; "voice-otp" is our own code. */
  packages: Array<{ name: string; bytes: number }>;
}

interface Metafile {
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

export const OWN_CODE = 'voice-otp';

/** node_modules/@scope/name/… → @scope/name; anything outside node_modules is our own code. */
export function packageOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(path);
  return match?.[1] ?? OWN_CODE;
}

export function measureBundle(bundle: BuiltBundle): BundleSize {
  const code = readFileSync(bundle.file);
  const meta = JSON.parse(readFileSync(join(dirname(bundle.file), 'index.meta.json'), 'utf8')) as Metafile;
  const output = Object.values(meta.outputs).find((o) => o.entryPoint);
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const name = packageOf(path);
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  return {
    name: bundle.name,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    sourceMapBytes: statSync(`${bundle.file}.map`).size,
    packages: [...byPackage]
      .map(([name, bytes]) => ({ name, bytes }))
      .filter((p) => p.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes),
  };
}

/** What a function carries beyond the floor, by package: where its extra bytes come from. */
export function beyondFloor(size: BundleSize, floor: BundleSize, top = 6) {
  const floorBytes = new Map(floor.packages.map((p) => [p.name, p.bytes]));
  return size.packages
    .map((p) => ({ name: p.name, bytes: p.bytes - (floorBytes.get(p.name) ?? 0) }))
    .filter((p) => p.bytes > 1024)
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}
