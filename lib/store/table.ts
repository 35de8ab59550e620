/**
 * The single table's shape, shared by the CDK stack, the local stack and the tests so they cannot drift.
 * Items: VERIFICATION#<id>, PHONE#<api key id>#<phone hash>, RATE#<scope>#<window>,
 * GUARD#<range pseudonym>#<window or "pause">, IDEMPOTENCY#<api key id>#<key>, WEBHOOK#<api key id>,
 * COUNTED#approval#<id> (the events function's mark that a verification's approval is counted). The stream
 * (new and old images) feeds the events function (lib/events/stream-events.ts).
 */
export const TABLE = {
  partitionKey: 'pk',
  ttlAttribute: 'ttl',
} as const;

export const VERIFICATION_PREFIX = 'VERIFICATION#';
export const WEBHOOK_PREFIX = 'WEBHOOK#';

/**
 * The stream records the events function needs: its verifications' (every event, approval and hang-up comes
 * from one). Lambda's event source mapping drops the others (counters, pointers, markers: most of the
 * table's writes) before invoking, unbilled; the local stack's reader applies the same rule.
 */
export const isVerificationKey = (pk: unknown) =>
  typeof pk === 'string' && pk.startsWith(VERIFICATION_PREFIX);

export const keys = {
  verification: (id: string) => `${VERIFICATION_PREFIX}${id}`,
  phone: (apiKeyId: string, phoneHash: string) => `PHONE#${apiKeyId}#${phoneHash}`,
  webhook: (apiKeyId: string) => `${WEBHOOK_PREFIX}${apiKeyId}`,
} as const;

/**
 * The CreateTable input for DynamoDB Local; the CDK stack declares the same key, TTL attribute and stream.
 * `stream: false` only for tests that never read it: DynamoDB Local's stream slows its writes.
 */
export const createTableInput = (tableName: string, { stream = true } = {}) => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [{ AttributeName: TABLE.partitionKey, AttributeType: 'S' as const }],
  KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' as const }],
  StreamSpecification: stream
    ? { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const }
    : { StreamEnabled: false },
});
