import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantOfKey } from '#platform/http.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { TenantsPolicy } from '../../infra/tenants-policy.ts';
import { stackOutputs } from '../../ops/stack-outputs.ts';
import { stackAdmin, tenantsMain } from '../../ops/tenants.ts';
import { type AwsStandIn, awsStandIn, standInClientConfig } from '../support/aws-stand-in.ts';
import { iamActions, recordCommands } from '../support/dynamodb-commands.ts';
import { apiEvent, createHarness, type Harness, parse } from '../support/harness.ts';

/**
 * `npm run tenants -- <command> --stack NAME` on AWS: the real AWS SDK clients against loopback stand-ins of
 * CloudFormation, Secrets Manager and API Gateway (test/support/aws-stand-in.ts), and the stack's table in
 * DynamoDB Local; the functions then see what the command made. Every call it makes is one the stack's
 * TenantsPolicy grants.
 */

const STACK = 'VoiceOtp';
const PLAN = 'plan0001';
const STACK_KEY = 'stackkey01';
const STACK_KEY_VALUE = 'GeneratedByCloudFormation0123456789abcde';
const KEY_RING_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:KeyRing-abc';

let standIn: AwsStandIn;
let h: Harness;
/** The DynamoDB actions the command took, and the items it touched. */
const dynamo: { actions: Set<string>; keys: Set<string> } = { actions: new Set(), keys: new Set() };

beforeAll(async () => {
  standIn = await awsStandIn();
  h = await createHarness();
  standIn.stacks.set(STACK, {
    TableName: h.tableName,
    UsagePlanId: PLAN,
    ApiKeyId: STACK_KEY,
    KeyRingSecretArn: KEY_RING_ARN,
    ApiKeyMaxPerDay: String(h.config.abuse.apiKeyMaxPerDay),
    CodeTtlSeconds: String(h.config.codeTtlSeconds),
    Channels: h.config.channels.join(','),
    CounterShards: String(h.config.abuse.counterShards),
    RetentionSeconds: String(h.config.retentionSeconds),
  });
  standIn.secrets.set(KEY_RING_ARN, h.keyRingSecret);
  standIn.apiKeys.set(STACK_KEY, STACK_KEY_VALUE);
  standIn.usagePlans.set(PLAN, new Set([STACK_KEY]));
});
afterAll(() => standIn.close());

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await tenantsMain(
    argv,
    { print: (text) => out.push(text), fail: (text) => err.push(text) },
    async (name) => {
      const db = createDocumentClient(h.connection);
      recordCommands(db, (command, input) => {
        for (const action of iamActions(command, input)) dynamo.actions.add(action);
        for (const key of itemKeys(input)) dynamo.keys.add(key);
      });
      const config = standInClientConfig(standIn);
      return stackAdmin(
        name,
        {
          apiGateway: new APIGatewayClient(config),
          secrets: new SecretsManagerClient(config),
          dynamodb: db,
        },
        await stackOutputs(name, new CloudFormationClient(config)),
      );
    },
  );
  const stdout = out.join('\n');
  return {
    code,
    stdout,
    stderr: err.join('\n'),
    json: code === 0 ? (JSON.parse(stdout) as unknown) : undefined,
  };
}

/** The `pk` of every item a command names. */
function itemKeys(input: unknown): string[] {
  const value = input as {
    Key?: { pk?: string };
    Item?: { pk?: string };
    RequestItems?: Record<string, { Keys?: Array<{ pk?: string }> }>;
  };
  return [
    value.Key?.pk,
    value.Item?.pk,
    ...Object.values(value.RequestItems ?? {}).flatMap((request) =>
      (request.Keys ?? []).map((key) => key.pk),
    ),
  ].filter((key): key is string => typeof key === 'string');
}

const allKeyValues = () => [...standIn.apiKeys.values()];

describe('npm run tenants -- --stack', () => {
  let acme: { id: string; apiKey: string };

  it('create: an enabled key on the usage plan and its item; the key’s value printed this once', async () => {
    const created = await run(
      'create',
      '--name',
      'Acme',
      '--app-name',
      'Acme',
      '--code-length',
      '8',
      '--stack',
      STACK,
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const body = created.json as {
      id: string;
      apiKey: string;
      name: string;
      settings: object;
      disabled: boolean;
    };
    expect(body).toEqual({
      id: expect.stringMatching(/^sk\d{8}$/),
      name: 'Acme',
      disabled: false,
      settings: { appName: 'Acme', codeLength: 8 },
      apiKey: standIn.apiKeys.get(body.id),
    });
    acme = { id: body.id, apiKey: body.apiKey };
    expect(standIn.apiKeyState.get(acme.id)).toEqual({ name: 'Acme', enabled: true });
    expect(standIn.usagePlans.get(PLAN)?.has(acme.id)).toBe(true);
    expect((await h.scan()).find((item) => item.pk === `TENANT#${acme.id}`)).toMatchObject({
      name: 'Acme',
      keyId: acme.id,
      appName: 'Acme',
      codeLength: 8,
    });
  });

  it('list and show: every key on the plan is a tenant, the stack’s first too; never a key’s value', async () => {
    const list = await run('list', '--stack', STACK);
    expect(list.json).toEqual([
      { id: acme.id, name: 'Acme', disabled: false, settings: { appName: 'Acme', codeLength: 8 } },
      { id: STACK_KEY, name: 'default', disabled: false, settings: {} },
    ]);
    const show = await run('show', acme.id, '--stack', STACK);
    expect(show.json).toEqual((list.json as unknown[])[0]);
    for (const value of allKeyValues()) {
      expect(list.stdout).not.toContain(value);
      expect(show.stdout).not.toContain(value);
    }
  });

  it('set: settings and a safe list (masked); a bad value exits 1, naming it, and writes nothing', async () => {
    const set = await run(
      'set',
      acme.id,
      '--max-per-day',
      '50',
      '--safe-list',
      '+14155550123',
      '--stack',
      STACK,
    );
    expect(set.json).toMatchObject({ settings: { maxPerDay: 50, safeList: ['+1********23'] } });
    const items = await h.scan();
    const keys = structuredClone([...standIn.apiKeyState]);
    const bad = await run('set', acme.id, '--code-length', '12', '--app-name', 'Fine', '--stack', STACK);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr)).toEqual({
      error: {
        code: 'invalid_request',
        message: expect.stringContaining('codeLength (--code-length): Too big'),
      },
    });
    expect(await h.scan()).toEqual(items);
    expect([...standIn.apiKeyState]).toEqual(keys);
    // The stack's own first key becomes a tenant with an item once set.
    expect((await run('set', STACK_KEY, '--default-locale', 'fr-FR', '--stack', STACK)).json).toMatchObject({
      id: STACK_KEY,
      settings: { defaultLocale: 'fr-FR' },
    });
  });

  it('disable and enable: the key at API Gateway and the item', async () => {
    expect((await run('disable', acme.id, '--stack', STACK)).json).toMatchObject({ disabled: true });
    expect(standIn.apiKeyState.get(acme.id)?.enabled).toBe(false);
    expect((await h.scan()).find((item) => item.pk === `TENANT#${acme.id}`)?.disabled).toBe(true);
    expect((await run('enable', acme.id, '--stack', STACK)).json).toMatchObject({ disabled: false });
    expect(standIn.apiKeyState.get(acme.id)?.enabled).toBe(true);
  });

  it('rotate-key: a new key naming the tenant; the old one deleted (the stack’s own, disabled)', async () => {
    const started = await h.send(
      apiEvent({
        method: 'POST',
        resource: '/v1/verifications',
        body: { phone: '+14155550124' },
        apiKeyId: acme.id,
      }),
    );
    expect(started.statusCode).toBe(202);
    const rotated = await run('rotate-key', acme.id, '--stack', STACK);
    const body = rotated.json as { id: string; apiKey: string };
    expect(body.id).toBe(acme.id);
    expect(body.apiKey).not.toBe(acme.apiKey);
    const [newId] = [...standIn.apiKeys].find(([, value]) => value === body.apiKey) ?? [];
    if (!newId) throw new Error('no new key');
    expect(tenantOfKey({ id: newId, value: body.apiKey })).toBe(acme.id);
    expect(standIn.apiKeys.has(acme.id)).toBe(false);
    expect(standIn.usagePlans.get(PLAN)?.has(newId)).toBe(true);
    expect((await h.scan()).find((item) => item.pk === `TENANT#${acme.id}`)?.keyId).toBe(newId);
    // What API Gateway hands the functions for the new key is the same tenant: its verification is there.
    const id = String(parse(started).id);
    const viaNew = await h.verify(
      apiEvent({
        method: 'GET',
        resource: '/v1/verifications/{id}',
        path: `/v1/verifications/${id}`,
        pathParameters: { id },
        apiKeyId: newId,
        apiKey: body.apiKey,
      }),
    );
    expect(viaNew.statusCode).toBe(200);
    // Still one tenant in the list, under its first id.
    expect(((await run('list', '--stack', STACK)).json as Array<{ id: string }>).map((t) => t.id)).toEqual([
      acme.id,
      STACK_KEY,
    ]);

    const stackRotated = (await run('rotate-key', STACK_KEY, '--stack', STACK)).json as { apiKey: string };
    expect(tenantOfKey({ id: 'any', value: stackRotated.apiKey })).toBe(STACK_KEY);
    // CloudFormation owns the stack's first key: disabled, not deleted.
    expect(standIn.apiKeyState.get(STACK_KEY)).toMatchObject({ enabled: false });
    expect(standIn.apiKeys.has(STACK_KEY)).toBe(true);
  });

  it('usage: the tenant’s report; an unknown tenant exits 1', async () => {
    const usage = await run('usage', acme.id, '--from', '2026-11-01', '--to', '2026-11-02', '--stack', STACK);
    expect(usage.json).toMatchObject({ from: '2026-11-01', to: '2026-11-02', days: [] });
    const unknown = await run('show', 'nosuchkey1', '--stack', STACK);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: { code: 'tenant_not_found' } });
  });

  it.each([
    [['list']],
    [['list', '--stack', STACK, '--local', 'http://127.0.0.1:3000']],
    [['create', '--stack', STACK]],
    [['create', '--name', 'x', '--colour', 'red', '--stack', STACK]],
    [['set', 'x', '--stack', STACK]],
    [['show', '--stack', STACK]],
    [['disable', 'x', '--app-name', 'Acme', '--stack', STACK]],
    [['list', '--local', 'http://example.com:3000']],
    [['frobnicate', '--stack', STACK]],
  ])('a command line it cannot run (%j): exit 1, usage on stderr, nothing done', async (argv) => {
    const calls = standIn.apiGatewayCalls.length;
    const items = await h.scan();
    const result = await run(...argv);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.length).toBeGreaterThan(20);
    expect(standIn.apiGatewayCalls.length).toBe(calls);
    expect(await h.scan()).toEqual(items);
  });

  it('makes only the calls the stack’s TenantsPolicy grants', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'PolicyOnly', { env: { account: '123456789012', region: 'us-east-1' } });
    const api = new RestApi(stack, 'Api');
    api.root.addMethod('GET');
    const plan = api.addUsagePlan('Plan', { apiStages: [{ stage: api.deploymentStage }] });
    const table = new Table(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const keyRing = new Secret(stack, 'KeyRing');
    const { policy } = new TenantsPolicy(stack, 'Tenants', { usagePlan: plan, table, keyRing });
    const template = Template.fromStack(stack).toJSON() as {
      Resources: Record<string, { Properties: { PolicyDocument?: { Statement: Statement[] } } }>;
    };
    const statements =
      template.Resources[stack.getLogicalId(policy.node.defaultChild as never)]?.Properties.PolicyDocument
        ?.Statement ?? [];
    const planId = stack.resolve(plan.usagePlanId) as { Ref: string };
    // Tokens as the stand-in's world names them.
    const text = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const object = value as Record<string, unknown>;
      if (object.Ref === 'AWS::Partition') return 'aws';
      if (object.Ref === 'AWS::Region') return 'us-east-1';
      if (object.Ref === planId.Ref) return PLAN;
      if (Array.isArray(object['Fn::Join'])) return (object['Fn::Join'][1] as unknown[]).map(text).join('');
      return JSON.stringify(value);
    };
    const allows = (action: string, resource?: string) =>
      statements.some(
        (statement) =>
          [statement.Action].flat().includes(action) &&
          (resource === undefined ||
            [statement.Resource]
              .flat()
              .some((pattern) => new RegExp(`^${text(pattern).replaceAll('*', '[^/]+')}$`).test(resource))),
      );
    for (const call of standIn.apiGatewayCalls) {
      const [method = '', path = ''] = call.split(' ');
      expect(allows(`apigateway:${method}`, `arn:aws:apigateway:us-east-1::${path}`), call).toBe(true);
    }
    expect(standIn.apiGatewayCalls.length).toBeGreaterThan(10);
    for (const action of dynamo.actions) expect(allows(action), action).toBe(true);
    expect([...dynamo.actions].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    // dynamodb:LeadingKeys: the tenants' and usage items, nothing else.
    for (const key of dynamo.keys) expect(key, key).toMatch(/^(TENANT|USAGE)#/);
    expect(allows('secretsmanager:GetSecretValue')).toBe(true);
    expect(allows('cloudformation:DescribeStacks')).toBe(true);
  });
});

interface Statement {
  Action: string | string[];
  Resource: unknown;
}
