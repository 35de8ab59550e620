import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, test } from 'vitest';
import { keys } from '#store/table.ts';
import { pollStream } from '../../local/stream-reader.ts';

const record = (pk: string, sequence: string): DynamoDBRecord => ({
  eventID: sequence,
  eventName: 'MODIFY',
  dynamodb: { Keys: { pk: { S: pk } }, SequenceNumber: sequence },
});

describe("the local stack's event source mapping", () => {
  test('hands the events function verification records only, as the cloud filter does', async () => {
    const written = [
      record('RATE#global#2026-11-29', '1'),
      record(keys.verification('vrf_a'), '2'),
      record('GUARD#k1.abc#123', '3'),
      record('COUNTED#approval#vrf_a', '4'),
      record(keys.phone('key', 'hash'), '5'),
      record(keys.verification('vrf_b'), '6'),
    ];
    const batches: DynamoDBRecord[][] = [];
    let reads = 0;
    const mapping = pollStream(
      { read: async () => (reads++ === 0 ? written : []), close: () => {} },
      async (event) => {
        batches.push(event.Records);
        return { batchItemFailures: [] };
      },
      { intervalMs: 5, log: () => {} },
    );
    await expect.poll(() => reads).toBeGreaterThan(1);
    await mapping.stop();
    expect(batches.flat().map((each) => each.dynamodb?.SequenceNumber)).toEqual(['2', '6']);
  });
});
