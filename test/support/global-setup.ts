import type { TestProject } from 'vitest/node';
import { type DynamoDbConnection, startDynamoDbLocal } from '../../local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    /** The run's random key pair: DynamoDB Local shows other key ids an empty database. */
    dynamodbCredentials: DynamoDbConnection['credentials'];
  }
}

/** One DynamoDB Local for the whole run; each test file creates its own table in it. */
export default async function setup(project: TestProject) {
  const dynamodb = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('dynamodbCredentials', dynamodb.credentials);
  return () => dynamodb.stop();
}
