import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

/**
 * src/openapi.ts from openapi.yaml (and the event schemas its webhooks name), with openapi-typescript.
 * `npm run generate -w @voice-otp/client` writes it; `-- --check` exits 1 when the committed file differs.
 */
export const DOCUMENT = new URL('../../../openapi.yaml', import.meta.url);
export const OUTPUT = new URL('../src/openapi.ts', import.meta.url);

const HEADER =
  '/**\n * Generated from openapi.yaml by openapi-typescript: `npm run generate -w @voice-otp/client`.\n' +
  ' * Do not edit; a test fails when it drifts from the document.\n */\n\n';

export async function generatedTypes(): Promise<string> {
  return HEADER + astToString(await openapiTS(DOCUMENT));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const types = await generatedTypes();
  if (process.argv.includes('--check')) {
    if (readFileSync(OUTPUT, 'utf8') !== types) {
      console.error('src/openapi.ts is out of date: run `npm run generate -w @voice-otp/client`.');
      process.exit(1);
    }
  } else {
    writeFileSync(OUTPUT, types);
  }
}
