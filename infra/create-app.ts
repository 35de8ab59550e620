import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSettings } from './settings.ts';
import { VoiceOtpStack } from './voice-otp-stack.ts';

/**
 * The CDK app: settings from context, the one stack, and cdk-nag's AwsSolutions rules as a validation
 * plugin, so any finding (warnings included) that infra/nag.ts does not acknowledge fails synth.
 */
export function createApp(props: AppProps = {}): { app: App; stack: VoiceOtpStack } {
  const app = new App(props);
  const settings = readSettings((key) => app.node.tryGetContext(key));
  const stack = new VoiceOtpStack(app, settings.stackName, {
    settings,
    description: 'voice-otp: phone verification by voice call (API Gateway, Lambda, DynamoDB, Plivo)',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
