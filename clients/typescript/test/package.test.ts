import { readdirSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { generatedTypes, OUTPUT } from '../scripts/generate.ts';

const SOURCE = new URL('../src/', import.meta.url);

describe('@voice-otp/client as published', () => {
  it('has its types generated from openapi.yaml as it stands (npm run generate -w @voice-otp/client)', async () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(await generatedTypes());
  });

  it('imports no Node module: its own files import each other, openapi-fetch and standardwebhooks only', () => {
    for (const file of readdirSync(SOURCE).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(new URL(file, SOURCE), 'utf8');
      const specifiers = [...source.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'/g)].map(
        (m) => m[1] ?? m[2],
      );
      for (const specifier of specifiers) {
        expect(specifier, file).toMatch(/^(\.\/[\w-]+\.ts|openapi-fetch|standardwebhooks)$/);
      }
      expect(source, file).not.toMatch(/\b(process|Buffer|require|__dirname)\b[.(]/);
    }
  });

  it('bundles for a runtime without Node (esbuild platform neutral), dependencies included', async () => {
    const result = await build({
      entryPoints: [new URL('index.ts', SOURCE).pathname],
      bundle: true,
      write: false,
      platform: 'neutral',
      format: 'esm',
      mainFields: ['module', 'main'],
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]?.text ?? '';
    expect(code).not.toMatch(
      /\brequire\(\s*["'](node:)?(crypto|http|https|buffer|fs|net|tls|stream|url)["']/,
    );
    expect(code).not.toContain('node:');
  });
});
