import { readdirSync } from 'node:fs';
import { describe, expect, inject, test } from 'vitest';
import type { FunctionName } from '#platform/routes.ts';
import { FUNCTION_ACCESS } from '../../infra/function-access.ts';
import { readCommandLog } from '../support/dynamodb-commands.ts';

/**
 * Runs after the whole suite (vitest.config.ts, project `grants`): DynamoDB Local has no IAM, so the only
 * proof that a function may do what its code does is this comparison with what its handler really issued.
 */
const FUNCTIONS = Object.keys(FUNCTION_ACCESS) as FunctionName[];
const INTEGRATION = new URL('../integration/', import.meta.url);

describe('DynamoDB grants', () => {
  test('each function holds exactly the actions its handler issued across the integration suite', () => {
    const directory = inject('dynamodbCommandLog');
    if (!directory) {
      throw new Error(
        'No DynamoDB command log: run the whole suite (npm test, or vitest run), not this project alone.',
      );
    }
    const { harnessFiles, records } = readCommandLog(directory);
    const integrationFiles = readdirSync(INTEGRATION)
      .filter((name) => name.endsWith('.test.ts'))
      .map((name) => `test/integration/${name}`);
    expect(
      integrationFiles.filter((file) => !harnessFiles.has(file)),
      'integration files whose handlers were not recorded (a partial run, or a file without createHarness)',
    ).toEqual([]);

    for (const name of FUNCTIONS) {
      const used = new Map<string, string>();
      for (const record of records.filter((r) => r.function === name)) {
        for (const action of record.actions) used.set(action, `${record.command} in ${record.file}`);
      }
      const granted = new Set<string>(FUNCTION_ACCESS[name].table);
      expect(
        {
          missing: [...used].filter(([action]) => !granted.has(action)).map(([a, why]) => `${a} (${why})`),
          unused: [...granted].filter((action) => !used.has(action)).sort(),
        },
        `${name}: grants in infra/function-access.ts against the commands its handler issued`,
      ).toEqual({ missing: [], unused: [] });
    }
  });
});
