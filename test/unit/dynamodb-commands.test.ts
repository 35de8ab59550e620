import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { iamActions, recordCommands } from '../support/dynamodb-commands.ts';

/** What the grants test is fed: the IAM actions each document-client command needs, seen before sending. */
async function actionsOf(send: (client: DynamoDBDocumentClient) => Promise<unknown>) {
  const client = createDocumentClient({ endpoint: 'http://127.0.0.1:9' });
  let actions: string[] = [];
  recordCommands(client, (name, input) => {
    actions = iamActions(name, input);
    // Nothing is sent: the recorder has seen what it needs.
    throw new Error('recorded');
  });
  await expect(send(client)).rejects.toThrow('recorded');
  client.destroy();
  return actions;
}

const Key = { pk: 'x' };

describe('IAM actions of recorded commands', () => {
  it('maps single-item and batch commands to their own action', async () => {
    const update = new UpdateCommand({
      TableName: 't',
      Key,
      UpdateExpression: 'SET a = :a',
      ExpressionAttributeValues: { ':a': 1 },
    });
    expect(await actionsOf((db) => db.send(new GetCommand({ TableName: 't', Key })))).toEqual([
      'dynamodb:GetItem',
    ]);
    expect(
      await actionsOf((db) => db.send(new BatchGetCommand({ RequestItems: { t: { Keys: [Key] } } }))),
    ).toEqual(['dynamodb:BatchGetItem']);
    expect(await actionsOf((db) => db.send(update))).toEqual(['dynamodb:UpdateItem']);
  });

  it('maps a transaction to the action of each of its items (there is no TransactWriteItems action)', async () => {
    const write = new TransactWriteCommand({
      TransactItems: [
        { ConditionCheck: { TableName: 't', Key, ConditionExpression: 'attribute_exists(pk)' } },
        { Put: { TableName: 't', Item: { pk: 'y' } } },
        { Delete: { TableName: 't', Key: { pk: 'z' } } },
      ],
    });
    const read = new TransactGetCommand({ TransactItems: [{ Get: { TableName: 't', Key } }] });
    expect(await actionsOf((db) => db.send(write))).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    ]);
    expect(await actionsOf((db) => db.send(read))).toEqual(['dynamodb:GetItem']);
  });

  it('names a command it cannot map, so the grants test fails on it', () => {
    expect(iamActions('ExecuteStatementCommand', {})).toEqual(['unknown:ExecuteStatementCommand']);
  });
});
