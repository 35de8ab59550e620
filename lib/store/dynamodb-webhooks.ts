import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { storeCall, type TableClient } from './dynamodb-client.ts';
import type { WebhookRecord, WebhookStore } from './store.ts';
import { keys as itemKeys } from './table.ts';

/** The apps' webhook endpoints (`WEBHOOK#<api key id>`): verify sets them; events and deliver only read them. */
export function webhookStore({ db, tableName }: TableClient): WebhookStore {
  async function putWebhook(apiKeyId: string, webhook: WebhookRecord): Promise<void> {
    const { url, events, sealedSecret, updatedAt } = webhook;
    await storeCall(() =>
      db.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: itemKeys.webhook(apiKeyId), url, events, sealedSecret, updatedAt },
        }),
      ),
    );
  }

  async function getWebhook(apiKeyId: string): Promise<WebhookRecord | undefined> {
    const out = await storeCall(() =>
      db.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: itemKeys.webhook(apiKeyId) },
          ConsistentRead: true,
        }),
      ),
    );
    if (!out.Item) return undefined;
    const { url, events, sealedSecret, updatedAt } = out.Item;
    return { url, events, sealedSecret, updatedAt } as WebhookRecord;
  }

  async function deleteWebhook(apiKeyId: string): Promise<boolean> {
    const out = await storeCall(() =>
      db.send(
        new DeleteCommand({
          TableName: tableName,
          Key: { pk: itemKeys.webhook(apiKeyId) },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return out.Attributes !== undefined;
  }

  return { putWebhook, getWebhook, deleteWebhook };
}
