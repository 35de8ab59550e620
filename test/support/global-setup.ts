import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type DynamoDbConnection, startDynamoDbLocal } from '../../local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    /** The run's directory where each test file logs the DynamoDB commands its handlers issue. */
    dynamodbCommandLog: string;
    /** The run's random key pair: DynamoDB Local shows other key ids an empty database. */
    dynamodbCredentials: DynamoDbConnection['credentials'];
  }
}

/**
 * One DynamoDB Local for the whole run; each test file creates its own table in it. The command log's
 * directory is given to every project, so the grants project (run after the suite) reads this run's log.
 */
export default async function setup(project: TestProject) {
  const dynamodb = await startDynamoDbLocal();
  const commandLog = await mkdtemp(join(tmpdir(), 'voice-otp-commands-'));
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('dynamodbCredentials', dynamodb.credentials);
  for (const each of project.vitest.projects) each.provide('dynamodbCommandLog', commandLog);
  return async () => {
    await dynamodb.stop();
    await rm(commandLog, { recursive: true, force: true });
  };
}
