import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/create-app.ts';

/** The feature flags of cdk.json, so tests build the same template as `cdk synth`. */
const cdkJsonContext = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/**
 * The stack as `cdk synth -c key=value …` would build it, without bundling (fast). Like the CLI, it records
 * construct paths in the template's metadata, which the tests use to find resources.
 */
export function buildStack(settings: Record<string, unknown> = {}) {
  return createApp({
    context: {
      ...cdkJsonContext,
      'aws:cdk:bundling-stacks': [],
      'aws:cdk:enable-path-metadata': true,
      ...settings,
    },
  });
}

export function synthTemplate(settings: Record<string, unknown> = {}): Template {
  return Template.fromStack(buildStack(settings).stack);
}
