import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, test } from 'vitest';
import { METRICS_NAMESPACE, SERVICE_NAME } from '#platform/metrics.ts';
import { PREFLIGHT_OUTPUTS } from '../../ops/preflight.ts';
import {
  alarmMetrics,
  awsMetricProblems,
  type CfnTemplate,
  keptAtDeletion,
  physicalNameProperties,
  schemaProblems,
  specDatabase,
  specOf,
} from './cfn-spec.ts';
import { synthTemplate } from './synth.ts';
import { missingStringKeyDependencies, ofType } from './template.ts';

/**
 * What the first `cdk deploy` and a redeploy after `cdk destroy` need of the template, checked offline the way
 * CloudFormation will read it, on the default settings and with every optional feature on. Each check is also
 * run once on a template broken on purpose, so it is known to be able to fail.
 */
const EVERY_FEATURE = {
  waf: 'true',
  customDomain: 'otp.example.com',
  certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
  alarmEmail: 'ops@example.com',
  webhookAllowedCidrs: '203.0.113.0/24,198.51.100.0/24',
  fromNumbers: { GB: '+447400123456', DE: '+4915123456789' },
  webhookReservedConcurrency: '50',
};

const VARIANTS: Record<string, Record<string, unknown>> = {
  'default settings': {},
  'every optional feature on': EVERY_FEATURE,
};
const templates = new Map<string, Template>();

// Two synths with cdk-nag (about 8 s each on an idle machine) and the spec database: generous, for a loaded one.
beforeAll(() => {
  for (const [name, settings] of Object.entries(VARIANTS)) templates.set(name, synthTemplate(settings));
  specDatabase();
}, 180_000);

const json = (template: Template) => template.toJSON() as CfnTemplate;
const copy = (template: Template) => structuredClone(json(template));

describe.each(Object.keys(VARIANTS))('%s', (variant) => {
  const template = () => templates.get(variant) as Template;

  test('every resource that names another by a string key (route key, stage or API name, metric) depends on it', () => {
    expect(missingStringKeyDependencies(template())).toEqual([]);
  });

  test('every resource type and property validates against CloudFormation’s current schemas', () => {
    expect(schemaProblems(specDatabase(), json(template()))).toEqual([]);
  });

  test('nothing kept at deletion has a fixed physical name, so a redeploy after a teardown cannot collide', () => {
    const db = specDatabase();
    const kept = Object.entries(json(template()).Resources).filter(([, resource]) =>
      keptAtDeletion(resource),
    );
    expect(kept.length).toBeGreaterThan(0);
    const fixed = kept.flatMap(([id, resource]) => {
      const spec = specOf(db, resource.Type);
      return (spec ? physicalNameProperties(spec) : [])
        .filter((name) => resource.Properties && name in resource.Properties)
        .map((name) => `${id} (${resource.Type}) is kept with a fixed ${name}`);
    });
    expect(fixed).toEqual([]);
    // The event bus must be named, so it goes with the stack (it holds no data).
    expect(ofType(template(), 'AWS::Events::EventBus').map(([, bus]) => bus.DeletionPolicy)).toEqual([
      'Delete',
    ]);
  });

  test('every alarm on an AWS metric reads one its service publishes, with dimensions naming our resources', () => {
    const db = specDatabase();
    const metrics = alarmMetrics(json(template()));
    const aws = metrics.filter((metric) => metric.namespace.startsWith('AWS/'));
    expect(aws.length).toBeGreaterThan(20);
    expect(aws.flatMap((metric) => awsMetricProblems(db, json(template()), metric))).toEqual([]);
    // The rest are the service's own (EMF, lib/platform/metrics.ts): test/grants holds each to code that emits it.
    for (const metric of metrics.filter((m) => !m.namespace.startsWith('AWS/'))) {
      expect(metric.namespace, metric.alarm).toBe(METRICS_NAMESPACE);
      expect(metric.dimensions, metric.alarm).toContainEqual({ Name: 'service', Value: SERVICE_NAME });
    }
  });

  test('the outputs `npm run preflight` starts from are there', () => {
    const outputs = (template().toJSON() as { Outputs: Record<string, unknown> }).Outputs;
    expect(PREFLIGHT_OUTPUTS.filter((key) => !(key in outputs))).toEqual([]);
  });

  test("the dashboard's name holds the region: dashboards are account-wide, so two regions cannot collide", () => {
    const [[, dashboard] = []] = ofType(template(), 'AWS::CloudWatch::Dashboard');
    expect(JSON.stringify(dashboard?.Properties.DashboardName)).toContain('{"Ref":"AWS::Region"}');
  });
});

describe('every optional feature on', () => {
  test('answer and hangup reserve webhookReservedConcurrency; no other function reserves any', () => {
    const reserved = ofType(templates.get('every optional feature on') as Template, 'AWS::Lambda::Function')
      .map(([, fn]) => [
        String(fn.Metadata?.['aws:cdk:path']).split('/')[1],
        fn.Properties.ReservedConcurrentExecutions,
      ])
      .filter(([, value]) => value !== undefined);
    expect(reserved.sort()).toEqual([
      ['AnswerFunction', 50],
      ['HangupFunction', 50],
    ]);
    expect(
      ofType(templates.get('default settings') as Template, 'AWS::Lambda::Function').filter(
        ([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined,
      ),
    ).toEqual([]);
  });
});

describe('the checks themselves find what they look for', () => {
  const base = () => templates.get('every optional feature on') as Template;

  test('a stage whose RouteSettings name routes it does not wait for is found', () => {
    const broken = copy(base());
    const [stageId] = ofType(base(), 'AWS::ApiGatewayV2::Stage')[0] ?? [];
    delete (broken.Resources[String(stageId)] as { DependsOn?: unknown }).DependsOn;
    expect(missingStringKeyDependencies(Template.fromJSON(broken))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/names .* as "POST \/v1\/plivo\/answer" but does not depend on it/),
      ]),
    );
  });

  test('an unknown property, a wrong type, a missing required property and a GetAtt of no attribute are found', () => {
    const broken = copy(base());
    const resources = Object.values(broken.Resources);
    const table = resources.find((r) => r.Type === 'AWS::DynamoDB::Table') as {
      Properties: Record<string, unknown>;
    };
    table.Properties.BillingMod = 'PAY_PER_REQUEST';
    const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function') as {
      Properties: Record<string, unknown>;
    };
    fn.Properties.MemorySize = 'lots';
    delete fn.Properties.Role;
    const queue = resources.find((r) => r.Type === 'AWS::SQS::Queue');
    const tableId = Object.entries(broken.Resources).find(([, r]) => r.Type === 'AWS::DynamoDB::Table')?.[0];
    (queue as { Properties: Record<string, unknown> }).Properties.RedriveAllowPolicy = {
      'Fn::GetAtt': [tableId, 'NoSuchAttribute'],
    };
    const problems = schemaProblems(specDatabase(), broken).join('\n');
    expect(problems).toMatch(/unknown property BillingMod/);
    expect(problems).toMatch(/MemorySize: expected a number/);
    expect(problems).toMatch(/missing required property Role/);
    expect(problems).toMatch(/AWS::DynamoDB::Table has no attribute NoSuchAttribute/);
  });

  test('a retained, named event bus is found', () => {
    const broken = copy(base());
    const bus = Object.values(broken.Resources).find((r) => r.Type === 'AWS::Events::EventBus') as {
      DeletionPolicy: string;
      Type: string;
      Properties: Record<string, unknown>;
    };
    bus.DeletionPolicy = 'Retain';
    const spec = specOf(specDatabase(), bus.Type);
    expect(keptAtDeletion(bus)).toBe(true);
    expect(
      physicalNameProperties(spec as NonNullable<typeof spec>).filter((p) => p in bus.Properties),
    ).toEqual(['Name']);
  });

  test('an alarm on a metric its service does not publish, or under other dimensions, is found', () => {
    const broken = copy(base());
    const [metric] = alarmMetrics(broken).filter((m) => m.namespace === 'AWS/Lambda');
    const db = specDatabase();
    expect(awsMetricProblems(db, broken, { ...metric, name: 'Error' } as NonNullable<typeof metric>)).toEqual(
      [expect.stringMatching(/no such metric/)],
    );
    expect(
      awsMetricProblems(db, broken, {
        ...metric,
        dimensions: [{ Name: 'Function', Value: 'x' }],
      } as NonNullable<typeof metric>),
    ).toEqual([expect.stringMatching(/published under no dimension set Function/)]);
    expect(
      awsMetricProblems(db, broken, {
        ...metric,
        dimensions: [{ Name: 'FunctionName', Value: 'someone-elses' }],
      } as NonNullable<typeof metric>),
    ).toEqual([expect.stringMatching(/names no AWS::Lambda::Function of this template/)]);
  });
});
