import { openTable, type TableClient } from './dynamodb-client.ts';
import { counterStore } from './dynamodb-counters.ts';
import { idempotencyStore } from './dynamodb-idempotency.ts';
import { phoneStore } from './dynamodb-phones.ts';
import { tenantStore } from './dynamodb-tenants.ts';
import { verificationStore } from './dynamodb-verifications.ts';
import { webhookStore } from './dynamodb-webhooks.ts';
import type { Store } from './store.ts';

/**
 * The whole store on DynamoDB, composed of its parts (one module per concern, one client shared): for send
 * and verify, which use nearly all of it, and for the tests and tools. The other functions build only the
 * parts their handlers use (functions/answer.ts, hangup.ts, events.ts, deliver.ts).
 */
export const dynamoDbStore = (table: TableClient): Store => ({
  ...verificationStore(table),
  ...phoneStore(table),
  ...counterStore(table),
  ...idempotencyStore(table),
  ...webhookStore(table),
  ...tenantStore(table),
});

/** The store for a function's configuration: one client per container. */
export const createStore = (config: Parameters<typeof openTable>[0]): Store =>
  dynamoDbStore(openTable(config));
