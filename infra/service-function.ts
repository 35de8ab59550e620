import { fileURLToPath } from 'node:url';
import { type Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionName } from '#platform/routes.ts';
import { phoneMetadataBundling } from './phone-metadata.ts';

const projectFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export interface ServiceFunctionProps {
  /** Bundles `functions/<name>.ts`, which exports `handler`. */
  name: FunctionName;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
  logRetention: RetentionDays;
  /** Active X-Ray tracing (setting `tracing`): Lambda's own segments, sampled by X-Ray, billed per trace. */
  tracing: boolean;
  removalPolicy: RemovalPolicy;
  /** ALLOWED_COUNTRIES: the phone-number metadata bundled is theirs (infra/phone-metadata.ts). */
  allowedCountries: readonly string[];
  /** Concurrency kept for this function alone, and its ceiling (setting webhookReservedConcurrency). */
  reservedConcurrency?: number | undefined;
}

/**
 * The defaults every function of the service shares: Node 24 on arm64, one esbuild bundle per function (local
 * esbuild, never Docker) with the AWS SDK inside, ESM, minified with source maps, active X-Ray tracing, and
 * its own log group and role. The role starts empty apart from writing its own logs and traces: grants come
 * from infra/function-access.ts, so no function inherits another's permissions and no managed policy is used.
 */
export class ServiceFunction extends Construct {
  readonly handler: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `voice-otp ${props.name} function (${Stack.of(this).stackName})`,
    });
    this.logGroup.grantWrite(this.role);

    this.handler = new NodejsFunction(this, 'Handler', {
      ...bundledCode(projectFile(`functions/${props.name}.ts`), props.allowedCountries),
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // Plain X-Ray: Lambda's own segments (init, invocation), no SDK instrumentation in the bundle.
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: { ...props.environment, NODE_OPTIONS: SERVICE_NODE_OPTIONS },
      ...(props.reservedConcurrency !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrency,
      }),
    });
  }
}

/** Stack traces in the logs point at the TypeScript sources, not the minified bundle. */
export const SERVICE_NODE_OPTIONS = '--enable-source-maps';

/**
 * How a function's code is built and what runs it. The benchmark (bench/) builds its bundles, and its
 * floor bundle, with these same props, so what it measures is what deploys.
 */
export function bundledCode(entry: string, allowedCountries: readonly string[]) {
  return {
    entry,
    handler: 'handler',
    projectRoot: projectFile(''),
    depsLockFilePath: projectFile('package-lock.json'),
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    bundling: {
      // Bundle the AWS SDK too: the version we tested, and a faster cold start than the runtime's copy.
      externalModules: [],
      format: OutputFormat.ESM,
      mainFields: ['module', 'main'],
      // Some dependencies are CommonJS and call require(); ESM has no require, so give them one.
      banner:
        "import { createRequire as voiceOtpCreateRequire } from 'node:module'; const require = voiceOtpCreateRequire(import.meta.url);",
      minify: true,
      sourceMap: true,
      // Mappings are enough for stack traces; embedding the sources would only make the bundle larger.
      sourcesContent: false,
      // Bundles are built by the esbuild in node_modules; Docker is never needed.
      forceDockerBundling: false,
      // Phone-number metadata for the allowed countries only, instead of every country's.
      esbuildArgs: phoneMetadataBundling(allowedCountries),
    },
  } satisfies NodejsFunctionProps;
}
