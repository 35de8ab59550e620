import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The floor every function is compared with: a Lambda that only imports the DynamoDB document client and
 * reads one item, bundled exactly like the service's functions. Its client is configured as
 * lib/store/dynamodb-client.ts configures the service's (local endpoint and credentials when DYNAMODB_ENDPOINT is
 * set), so the comparison is of everything else the service does.
 */
let db: DynamoDBDocumentClient | undefined;

export const handler = async (event: { pk: string }) => {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  db ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({
      maxAttempts: 3,
      ...(endpoint && {
        endpoint,
        region: process.env.AWS_REGION ?? 'us-east-1',
        // The local stack's DynamoDB Local runs under a random key pair (its database is per key id).
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
        },
      }),
    }),
  );
  const out = await db.send(
    new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: event.pk }, ConsistentRead: true }),
  );
  return { statusCode: out.Item ? 200 : 404, body: JSON.stringify({ found: Boolean(out.Item) }) };
};
