import { Aws, Stack } from 'aws-cdk-lib';
import type { IUsagePlan } from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';

/**
 * What `npm run tenants -- <command> --stack NAME` needs (ops/tenants.ts), as a managed policy the operator
 * attaches to the role or user they run it with (output TenantsPolicyArn): read the stack's outputs, make,
 * enable, disable and delete API keys and put them on the stack's usage plan, read and write the tenants' and
 * usage items alone (dynamodb:LeadingKeys), and read the key ring to pseudonymise safe-listed numbers.
 * test/integration/tenants-cli.test.ts holds it to exactly the calls the command makes.
 */
export interface TenantsPolicyProps {
  usagePlan: IUsagePlan;
  table: ITable;
  keyRing: ISecret;
}

/** The item prefixes the command reads and writes (lib/store/table.ts). */
export const TENANT_ITEM_PREFIXES = ['TENANT#', 'USAGE#'] as const;

export class TenantsPolicy extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: TenantsPolicyProps) {
    super(scope, id);
    const apigateway = (path: string) => `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::${path}`;
    this.policy = new ManagedPolicy(this, 'Policy', {
      description:
        'voice-otp: what npm run tenants needs to manage this stack’s tenants (API keys, settings)',
      statements: [
        new PolicyStatement({
          sid: 'StackOutputs',
          actions: ['cloudformation:DescribeStacks'],
          resources: [Stack.of(this).stackId],
        }),
        new PolicyStatement({
          sid: 'CreateAndListApiKeys',
          actions: ['apigateway:POST', 'apigateway:GET'],
          resources: [apigateway('/apikeys')],
        }),
        new PolicyStatement({
          sid: 'EnableDisableDeleteApiKeys',
          actions: ['apigateway:PATCH', 'apigateway:DELETE'],
          resources: [apigateway('/apikeys/*')],
        }),
        new PolicyStatement({
          sid: 'UsagePlanKeys',
          actions: ['apigateway:POST', 'apigateway:GET'],
          resources: [apigateway(`/usageplans/${props.usagePlan.usagePlanId}/keys`)],
        }),
        new PolicyStatement({
          sid: 'TenantItems',
          actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          resources: [props.table.tableArn],
          conditions: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': TENANT_ITEM_PREFIXES.map((prefix) => `${prefix}*`),
            },
          },
        }),
        new PolicyStatement({
          sid: 'KeyRing',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [props.keyRing.secretArn],
        }),
      ],
    });
    acknowledge(
      this.policy,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/apikeys/*]',
    );
  }
}
