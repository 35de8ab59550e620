/**
 * The single table's shape, shared by the CDK stack, the local stack and the tests so they cannot drift.
 * Items: VERIFICATION#<id>, PHONE#<api key id>#<phone hash>, RATE#<scope>#<window>,
 * GUARD#<range pseudonym>#<window or "pause">, IDEMPOTENCY#<api key id>#<key>,
 * WEBHOOK#<api key id>.
 */
export const TABLE = {
  partitionKey: 'pk',
  ttlAttribute: 'ttl',
} as const;

export const keys = {
  verification: (id: string) => `VERIFICATION#${id}`,
  phone: (apiKeyId: string, phoneHash: string) => `PHONE#${apiKeyId}#${phoneHash}`,
  webhook: (apiKeyId: string) => `WEBHOOK#${apiKeyId}`,
} as const;

/** The CreateTable input for DynamoDB Local; the CDK stack declares the same key and TTL attribute. */
export const createTableInput = (tableName: string) => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [{ AttributeName: TABLE.partitionKey, AttributeType: 'S' as const }],
  KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' as const }],
});
