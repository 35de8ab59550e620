import { DeleteCommand, GetCommand, PutCommand, paginateScan, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { storeCall, storeError, type TableClient } from './dynamodb-client.ts';
import type { WebhookRecord, WebhookSecretStore, WebhookStore } from './store.ts';
import { keys as itemKeys, WEBHOOK_PREFIX } from './table.ts';

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

/** The endpoints' sealed secrets for a key rotation (ops/rotate-keys.ts); no function is granted these. */
export function webhookSecretStore({ db, tableName }: TableClient): WebhookSecretStore {
  async function listSealedSecrets() {
    const found: Array<{ apiKeyId: string; sealedSecret: string }> = [];
    const pages = paginateScan(
      { client: db },
      {
        TableName: tableName,
        // Strongly consistent: a secret a PUT sealed a moment ago under an old key must not be missed.
        ConsistentRead: true,
        FilterExpression: 'begins_with(pk, :prefix)',
        ProjectionExpression: 'pk, sealedSecret',
        ExpressionAttributeValues: { ':prefix': WEBHOOK_PREFIX },
      },
    );
    for await (const page of pages)
      for (const item of page.Items ?? [])
        found.push({
          apiKeyId: (item.pk as string).slice(WEBHOOK_PREFIX.length),
          sealedSecret: item.sealedSecret as string,
        });
    return found;
  }

  async function replaceSealedSecret(apiKeyId: string, from: string, to: string) {
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: itemKeys.webhook(apiKeyId) },
          UpdateExpression: 'SET sealedSecret = :to',
          ConditionExpression: 'sealedSecret = :from',
          ExpressionAttributeValues: { ':from': from, ':to': to },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw storeError(error);
    }
  }

  return { listSealedSecrets, replaceSealedSecret };
}
