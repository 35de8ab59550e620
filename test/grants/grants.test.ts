import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, inject, test } from 'vitest';
import { METRICS_NAMESPACE } from '#platform/metrics.ts';
import type { FunctionName } from '#platform/routes.ts';
import { FUNCTION_ACCESS } from '../../infra/function-access.ts';
import { alarmMetrics, type CfnTemplate } from '../infra/cfn-spec.ts';
import { synthTemplate } from '../infra/synth.ts';
import { type CommandRecord, readCommandLog } from '../support/dynamodb-commands.ts';

/**
 * Runs after the whole suite (vitest.config.ts, project `grants`): DynamoDB Local has no IAM, and the
 * integration suite reaches Secrets Manager, EventBridge and SQS through stand-ins, so the only proof that a
 * function may do what its code does is this comparison with what its handler really used. Each function's
 * harness hands it only the secrets and clients it is granted (test/support/harness.ts), so a use without a
 * grant fails its own test as well as this one.
 */
const FUNCTIONS = Object.keys(FUNCTION_ACCESS) as FunctionName[];
const INTEGRATION = new URL('../integration/', import.meta.url);

let log: ReturnType<typeof readCommandLog>;

beforeAll(() => {
  const directory = inject('dynamodbCommandLog');
  if (!directory) {
    throw new Error('No command log: run the whole suite (npm test, or vitest run), not this project alone.');
  }
  log = readCommandLog(directory);
});

/** What `name` used, by kind: each action once, with the first command and file that used it. */
function used(
  name: FunctionName,
  kind: (action: string) => boolean,
  key = (_record: CommandRecord, action: string) => action,
) {
  const found = new Map<string, string>();
  for (const record of log.records.filter((r) => r.function === name)) {
    for (const action of record.actions.filter(kind))
      found.set(key(record, action), `${record.command} in ${record.file}`);
  }
  return found;
}

/** Granted against used: nothing missing, nothing unused. */
function compare(granted: readonly string[], usedNow: Map<string, string>) {
  const grants = new Set(granted);
  return {
    missing: [...usedNow].filter(([action]) => !grants.has(action)).map(([a, why]) => `${a} (${why})`),
    unused: [...grants].filter((action) => !usedNow.has(action)).sort(),
  };
}

describe('grants in infra/function-access.ts against what each handler used across the integration suite', () => {
  test('every integration file recorded its handlers (no partial run)', () => {
    const integrationFiles = readdirSync(INTEGRATION)
      .filter((name) => name.endsWith('.test.ts'))
      .map((name) => `test/integration/${name}`);
    expect(
      integrationFiles.filter((file) => !log.harnessFiles.has(file)),
      'integration files whose handlers were not recorded (a partial run, or a file without createHarness)',
    ).toEqual([]);
    expect(log.records.flatMap((r) => r.actions).filter((a) => a.startsWith('unknown:'))).toEqual([]);
  });

  test.each(FUNCTIONS)('%s: DynamoDB actions (IAM) and operations (what the alarms watch)', (name) => {
    const dynamodb = (action: string) => action.startsWith('dynamodb:');
    expect(compare(FUNCTION_ACCESS[name].table, used(name, dynamodb)), 'IAM actions').toEqual({
      missing: [],
      unused: [],
    });
    const operations = used(name, dynamodb, (record) => record.command.replace(/Command$/, ''));
    expect(compare(FUNCTION_ACCESS[name].operations, operations), 'operations').toEqual({
      missing: [],
      unused: [],
    });
  });

  test.each(FUNCTIONS)('%s: secrets', (name) => {
    const secrets = used(
      name,
      (action) => action.startsWith('secret:'),
      (_, action) => action.slice(7),
    );
    expect(compare(FUNCTION_ACCESS[name].secrets, secrets)).toEqual({ missing: [], unused: [] });
  });

  test.each(FUNCTIONS)('%s: EventBridge and SQS calls', (name) => {
    const services = used(name, (action) => action.startsWith('events:') || action.startsWith('sqs:'));
    expect(compare(FUNCTION_ACCESS[name].services, services)).toEqual({ missing: [], unused: [] });
  });
});

describe("alarms on the service's own metrics", () => {
  test('every one reads a metric, with its dimensions, that some code path counted in the suite', () => {
    const template = synthTemplate().toJSON() as CfnTemplate;
    const ours = alarmMetrics(template).filter((metric) => metric.namespace === METRICS_NAMESPACE);
    expect(ours.length).toBeGreaterThan(5);
    // EMF publishes a count under `service` alone, or under `service` and its one dimension (lib/platform/metrics.ts).
    const read = ours.map((metric) => {
      const extra = metric.dimensions.filter((d) => d.Name !== 'service');
      return `${metric.name}${extra.map((d) => ` ${d.Name}=${String(d.Value)}`).join('')}`;
    });
    expect([...new Set(read)].filter((metric) => !log.metrics.has(metric))).toEqual([]);
  }, 60_000);
});
