/**
 * The single table's shape, shared by the CDK stack, the local stack and the tests so they cannot drift.
 * Items: VERIFICATION#<id>, PHONE#<api key id>#<phone hash>, RATE#<scope>#<window>,
 * GUARD#<range pseudonym>#<window or "pause">, IDEMPOTENCY#<api key id>#<key>, WEBHOOK#<api key id>,
 * COUNTED#approval#<id> (the events function's mark that a verification's approval is counted),
 * TENANT#<tenant id> (an API key's settings: lib/store/tenant.ts), USAGE#<tenant id>#<day>[#s<shard>] (its usage
 * counts) and COUNTED#usage#<kind>#<id> (the mark that a verification's usage count is counted). The stream
 * (new and old images) feeds the events function (lib/events/stream-events.ts).
 */
export const TABLE = {
  partitionKey: 'pk',
  ttlAttribute: 'ttl',
} as const;

export const VERIFICATION_PREFIX = 'VERIFICATION#';
export const TENANT_PREFIX = 'TENANT#';
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
  tenant: (tenantId: string) => `${TENANT_PREFIX}${tenantId}`,
  /** One item per tenant, UTC day and shard (`shard` is '' or `#s<n>`, lib/abuse/sharded-counter.ts). */
  usage: (tenantId: string, day: string, shard: string) => `USAGE#${tenantId}#${day}${shard}`,
} as const;

/** One of a phone's recent verifications, as its pointer (`PHONE#…`) lists it. */
export interface RecentEntry {
  id: string;
  /** Epoch seconds: the verification item's TTL. */
  until: number;
}

/** A phone's pointer item key, per API key and phone pseudonym. */
export const pointerKey = (verification: { apiKeyId: string; phoneHash: string }) =>
  keys.phone(verification.apiKeyId, verification.phoneHash);

/**
 * The update that lists a new verification in its phone's pointer, written in the same transaction as the
 * verification itself (lib/store/dynamodb-verifications.ts `create`), so erasure finds every verification
 * that exists, including one whose call is still being placed. The pointer lives as long as the newest
 * verification it lists (`until`, the verification item's TTL); it moves to the verification only once its
 * code is out (lib/store/dynamodb-phones.ts `pointPhoneTo`).
 */
export function listUnderPhone(
  verification: { id: string; apiKeyId: string; phoneHash: string },
  until: number,
) {
  const entry: RecentEntry = { id: verification.id, until };
  return {
    Key: { pk: pointerKey(verification) },
    UpdateExpression: 'SET recent = list_append(if_not_exists(recent, :none), :entry), #ttl = :ttl',
    ExpressionAttributeNames: { '#ttl': 'ttl' },
    ExpressionAttributeValues: { ':none': [], ':entry': [entry], ':ttl': until },
  };
}

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
