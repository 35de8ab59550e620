import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), 'voice-otp-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** What a fresh clone gets: the CLI from node_modules on this Node, no AWS account, no Docker, no network. */
function cdkSynth() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  const started = performance.now();
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--no-notices', '--quiet', '--output', outdir],
    {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...env,
        // cdk.json runs `node infra/app.ts`: the same Node as this test.
        PATH: [dirname(process.execPath), join(root, 'node_modules/.bin'), env.PATH].join(delimiter),
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        CDK_DOCKER: '/bin/false',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      timeout: 180_000,
    },
  );
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

test('`cdk synth` passes on a clean checkout and esbuild bundles all six functions', async () => {
  const result = cdkSynth();
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);

  const template = JSON.parse(readFileSync(join(outdir, 'VoiceOtp.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } }; Metadata?: object }>;
  };
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  expect(functions).toHaveLength(6);

  const sizes: string[] = [];
  for (const fn of functions) {
    const path = String((fn.Metadata as Record<string, unknown>)['aws:cdk:path']);
    const assetHash = fn.Properties.Code?.S3Key?.replace(/\.zip$/, '');
    const bundle = join(outdir, `asset.${assetHash}`, 'index.mjs');
    expect(existsSync(bundle), path).toBe(true);
    expect(existsSync(`${bundle}.map`), path).toBe(true);
    // Loading the ESM bundle proves the createRequire banner and the bundled SDK resolve.
    const module = (await import(pathToFileURL(bundle).href)) as { handler?: unknown };
    expect(typeof module.handler, path).toBe('function');
    const bytes = statSync(bundle).size;
    const gzip = gzipSync(readFileSync(bundle)).length;
    sizes.push(
      `${path.split('/')[1]}: ${(bytes / 1024).toFixed(0)} KB (${(gzip / 1024).toFixed(0)} KB gzip)`,
    );
  }

  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: unknown[];
  };
  expect(report.pluginReports).toEqual([]);
  console.log(`cdk synth took ${result.seconds.toFixed(1)} s; bundles: ${sizes.join(', ')}`);
}, 240_000);
