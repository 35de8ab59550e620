import { createApp } from './create-app.ts';
import { SettingsError } from './settings.ts';

// Run by the CDK CLI through cdk.json (`node infra/app.ts`: Node 24 strips the types itself).
try {
  createApp();
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  // A mistyped setting is the operator's to fix: say which, without a stack trace.
  console.error(error.message);
  process.exitCode = 1;
}
