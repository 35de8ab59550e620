import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { endpointRegion } from '#store/dynamodb-client.ts';
import { isVerificationKey } from '#store/table.ts';
import { type DynamoDbConnection, localClient } from './dynamodb-local.ts';

/**
 * Reads a DynamoDB Local table's stream the way Lambda's event source mapping reads a real one (every shard,
 * from its start, each record once and in order), and hands out the event Lambda would give the events
 * function. Shards are found again on each read, so a shard DynamoDB Local opens later is read too.
 */
export class StreamReader {
  readonly #client: DynamoDBStreamsClient;
  readonly #streamArn: string;
  /** Where each shard's next read starts; null once a closed shard is read to its end. */
  readonly #iterators = new Map<string, string | null>();

  private constructor(client: DynamoDBStreamsClient, streamArn: string) {
    this.#client = client;
    this.#streamArn = streamArn;
  }

  static async open(connection: DynamoDbConnection, tableName: string): Promise<StreamReader> {
    const tables = localClient(connection);
    try {
      const out = await tables.send(new DescribeTableCommand({ TableName: tableName }));
      const arn = out.Table?.LatestStreamArn;
      if (!arn) throw new Error(`Table ${tableName} has no stream`);
      const client = new DynamoDBStreamsClient({
        endpoint: connection.endpoint,
        region: endpointRegion(),
        credentials: connection.credentials,
      });
      return new StreamReader(client, arn);
    } finally {
      tables.destroy();
    }
  }

  /** Every record written since the last read, oldest first (per shard). */
  async read(): Promise<DynamoDBRecord[]> {
    const described = await this.#client.send(new DescribeStreamCommand({ StreamArn: this.#streamArn }));
    const records: DynamoDBRecord[] = [];
    for (const shard of described.StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId ?? '';
      if (!this.#iterators.has(shardId)) {
        const started = await this.#client.send(
          new GetShardIteratorCommand({
            StreamArn: this.#streamArn,
            ShardId: shardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        this.#iterators.set(shardId, started.ShardIterator ?? null);
      }
      let iterator = this.#iterators.get(shardId) ?? null;
      while (iterator) {
        const out = await this.#client.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...(out.Records ?? []).map((record) => lambdaRecord(record, this.#streamArn)));
        iterator = out.NextShardIterator ?? null;
        this.#iterators.set(shardId, iterator);
        if (!out.Records?.length) break;
      }
    }
    return records;
  }

  close() {
    this.#client.destroy();
  }
}

/** A record as Lambda's event source mapping passes it: creation time in epoch seconds, the stream's ARN. */
function lambdaRecord(record: _Record, streamArn: string): DynamoDBRecord {
  const { ApproximateCreationDateTime, ...rest } = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(rest as NonNullable<DynamoDBRecord['dynamodb']>),
      ...(ApproximateCreationDateTime && {
        ApproximateCreationDateTime: Math.floor(ApproximateCreationDateTime.getTime() / 1000),
      }),
    },
  };
}

/** What the cloud stack's event source mapping lets through to the events function (infra/events.ts). */
export const verificationRecords = (records: DynamoDBRecord[]) =>
  records.filter((record) => isVerificationKey(record.dynamodb?.Keys?.pk?.S));

export const streamEvent = (records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });

/** Tries of a failing record locally before it is dropped (the cloud stack's failure queue, here a log line). */
const LOCAL_TRIES = 3;

/**
 * The local event source mapping: reads the stream every `intervalMs` and hands new verification records to
 * `handler` in one batch; records it reports failed are handed over again (with the ones after them, as Lambda does) up
 * to LOCAL_TRIES times.
 */
export function pollStream(
  reader: Pick<StreamReader, 'read' | 'close'>,
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>,
  options: { intervalMs: number; log: (line: string) => void },
): { stop(): Promise<void> } {
  let pending: DynamoDBRecord[] = [];
  let tries = 0;
  let stopped = false;
  const tick = async () => {
    pending.push(...verificationRecords(await reader.read()));
    if (pending.length === 0) return;
    let failedAt = -1;
    try {
      const { batchItemFailures } = await handler(streamEvent(pending));
      const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
      failedAt = pending.findIndex((record) => failed.has(record.dynamodb?.SequenceNumber ?? ''));
    } catch {
      failedAt = 0;
    }
    if (failedAt < 0 || ++tries >= LOCAL_TRIES) {
      if (failedAt >= 0) options.log(`events: gave up on ${pending.length - failedAt} stream record(s)`);
      pending = [];
      tries = 0;
      return;
    }
    pending = pending.slice(failedAt);
  };
  const loop = (async () => {
    while (!stopped) {
      await tick().catch((error: unknown) =>
        options.log(`events: stream read failed: ${(error as Error).message}`),
      );
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      reader.close();
    },
  };
}
