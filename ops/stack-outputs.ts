import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';

/**
 * A deployed stack's outputs, read with the AWS SDK and the operator's usual credentials and region (the
 * environment, ~/.aws, SSO): what `npm run smoke -- --stack` and `npm run rotate-keys` start from.
 */
export async function stackOutputs(
  stackName: string,
  client = new CloudFormationClient({}),
): Promise<Record<string, string>> {
  let outputs: Output[];
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    const e = error as Error;
    if (/does not exist/.test(e.message)) {
      throw new OperatorError(
        `Stack ${stackName} was not found in ${await client.config.region()}: check --stack and AWS_REGION.`,
      );
    }
    throw new OperatorError(`Could not read stack ${stackName}: ${e.name}: ${e.message}`);
  }
  return Object.fromEntries(
    outputs.flatMap((output) =>
      output.OutputKey && output.OutputValue ? [[output.OutputKey, output.OutputValue]] : [],
    ),
  );
}

/** A failure the operator can act on: the commands print its message alone, no stack trace. */
export class OperatorError extends Error {
  override name = 'OperatorError';
}

export function requireOutput(outputs: Record<string, string>, key: string, stackName: string): string {
  const value = outputs[key];
  if (!value) {
    throw new OperatorError(
      `Stack ${stackName} has no output ${key}: deploy this version of voice-otp first (npm run deploy).`,
    );
  }
  return value;
}
