import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { FallbackChannel } from '#platform/config.ts';
import { epochSeconds, storeCall, storeError, type TableClient } from './dynamodb-client.ts';
import type { TransitionResult, VerificationStore } from './store.ts';
import { keys as itemKeys, listUnderPhone } from './table.ts';
import {
  type CallRecord,
  MESSAGE_STATUS_AFTER,
  type MessageRecord,
  type MessageStatus,
  messageChannel,
  type Verification,
  type VerificationState,
} from './verification.ts';

const fromItem = (item: Record<string, unknown>): Verification => {
  const { pk: _pk, ttl: _ttl, ...verification } = item;
  return verification as unknown as Verification;
};

/** Verification items: their creation, reads, and every state transition (one conditional write each). */
export function verificationStore({ db, tableName, retentionSeconds }: TableClient): VerificationStore {
  /**
   * The verification and its entry in its phone's pointer, in one transaction: from the moment it exists,
   * erasure finds it, also while its call or SMS is still being placed (lib/store/dynamodb-phones.ts). The
   * verification's id is the transaction's idempotency token, so the SDK retrying a transaction whose answer
   * timed out after it landed succeeds without writing twice.
   */
  async function create(verification: Verification): Promise<void> {
    const ttl = epochSeconds(verification.expiresAt) + retentionSeconds;
    await storeCall(() =>
      db.send(
        new TransactWriteCommand({
          ClientRequestToken: verification.id,
          TransactItems: [
            {
              Put: {
                TableName: tableName,
                Item: {
                  pk: itemKeys.verification(verification.id),
                  ttl,
                  ...verification,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Update: { TableName: tableName, ...listUnderPhone(verification, ttl) } },
          ],
        }),
      ),
    );
  }

  async function get(id: string): Promise<Verification | undefined> {
    const key = { pk: itemKeys.verification(id) };
    const out = await storeCall(() =>
      db.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true })),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async function getState(id: string): Promise<VerificationState | undefined> {
    const out = await storeCall(() =>
      db.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: itemKeys.verification(id) },
          ConsistentRead: true,
          ProjectionExpression: '#status, #attempts, #maxAttempts, #expiresAt, #locale, #supersededBy',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#attempts': 'attempts',
            '#maxAttempts': 'maxAttempts',
            '#expiresAt': 'expiresAt',
            '#locale': 'locale',
            '#supersededBy': 'supersededBy',
          },
        }),
      ),
    );
    return out.Item as VerificationState | undefined;
  }

  async function reserveAttempt(id: string, apiKeyId: string, now: number, token: string) {
    const result = await transition(id, {
      UpdateExpression: 'SET updatedAt = :now ADD attempts :one, reservations :token',
      // The token makes the write idempotent: the SDK retries a write that timed out, and every one of its
      // attempts may still land once the store recovers.
      ConditionExpression:
        'apiKeyId = :apiKeyId AND #status = :pending AND expiresAt > :now AND attempts < maxAttempts AND NOT contains(reservations, :tokenValue)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':one': 1,
        ':token': new Set([token]),
        ':tokenValue': token,
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':now': now,
      },
    });
    // Refused because an earlier attempt of this very write landed: the attempt is reserved, once.
    if (!result.done && result.current?.reservations?.has(token))
      return { done: true, verification: result.current } as const;
    return result;
  }

  function approve(id: string, apiKeyId: string, now: number) {
    return transition(id, {
      UpdateExpression: 'SET #status = :approved, updatedAt = :now',
      ConditionExpression: 'apiKeyId = :apiKeyId AND #status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':approved': 'approved',
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':now': now,
      },
    });
  }

  function lockOut(id: string, apiKeyId: string, now: number) {
    return transition(id, {
      UpdateExpression: 'SET #status = :locked, updatedAt = :now',
      ConditionExpression: 'apiKeyId = :apiKeyId AND #status = :pending AND attempts >= maxAttempts',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':locked': 'max_attempts_reached',
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':now': now,
      },
    });
  }

  function cancel(id: string, apiKeyId: string, now: number, supersededBy?: string) {
    return transition(id, {
      UpdateExpression: `SET #status = :canceled, updatedAt = :now${supersededBy ? ', supersededBy = :by' : ''}`,
      // A verification whose last attempt is still being tested is pending: its outcome becomes canceled.
      ConditionExpression: 'apiKeyId = :apiKeyId AND #status = :pending AND expiresAt > :now',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':canceled': 'canceled',
        ':pending': 'pending',
        ':apiKeyId': apiKeyId,
        ':now': now,
        ...(supersededBy && { ':by': supersededBy }),
      },
    });
  }

  function fail(id: string, outcome: { call: CallRecord } | { message: MessageRecord }, now: number) {
    const [channel, record] = 'call' in outcome ? ['call', outcome.call] : ['message', outcome.message];
    return transition(id, {
      UpdateExpression: 'SET #status = :failed, #channel = :record, updatedAt = :now',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status', '#channel': channel },
      ExpressionAttributeValues: {
        ':failed': 'failed',
        ':pending': 'pending',
        ':record': record,
        ':now': now,
      },
    });
  }

  function recordMessage(id: string, report: MessageRecord & { uuid: string }, now: number) {
    const after = MESSAGE_STATUS_AFTER[report.status];
    // Bound to this MessageUUID: a status this one may follow. Not bound yet (the send wrote `queued`): the
    // same, so the first report binds even when it says `queued`.
    const bound = [...after];
    const unbound: MessageStatus[] = report.status === 'queued' ? ['queued'] : [...after];
    const values: Record<string, unknown> = { ':uuid': report.uuid, ':status': report.status, ':now': now };
    const within = (prefix: string, list: MessageStatus[]) =>
      list
        .map((status, i) => {
          values[`:${prefix}${i}`] = status;
          return `:${prefix}${i}`;
        })
        .join(', ');
    const conditions = [
      `attribute_not_exists(#m.#uuid) AND #m.#status IN (${within('u', unbound)})`,
      ...(bound.length ? [`#m.#uuid = :uuid AND #m.#status IN (${within('b', bound)})`] : []),
    ];
    const names: Record<string, string> = {
      '#m': 'message',
      '#uuid': 'uuid',
      '#status': 'status',
      '#channel': 'channel',
    };
    // The report is for the message on the block: a WhatsApp message's reports never touch the SMS that fell
    // back from it, nor the reverse (an SMS record has no channel attribute).
    const whatsapp = messageChannel(report) === 'whatsapp';
    if (whatsapp) values[':whatsapp'] = 'whatsapp';
    const channel = whatsapp ? '#m.#channel = :whatsapp' : 'attribute_not_exists(#m.#channel)';
    const sets = ['#m.#status = :status', '#m.#uuid = :uuid', 'updatedAt = :now'];
    for (const field of ['units', 'cost', 'errorCode'] as const) {
      if (report[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = report[field];
      sets.push(`#m.#${field} = :${field}`);
    }
    return transition(id, {
      UpdateExpression: `SET ${sets.join(', ')}`,
      // DynamoDB refuses redundant parentheses, so a lone alternative goes without its own.
      ConditionExpression: `attribute_exists(#m) AND ${channel} AND (${conditions.length > 1 ? conditions.map((c) => `(${c})`).join(' OR ') : conditions[0]})`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  function recordCallRequest(id: string, requestId: string, now: number) {
    return transition(id, {
      UpdateExpression: 'SET #call.#requestId = :requestId, updatedAt = :now',
      ConditionExpression: 'attribute_exists(#call)',
      ExpressionAttributeNames: { '#call': 'call', '#requestId': 'requestId' },
      ExpressionAttributeValues: { ':requestId': requestId, ':now': now },
    });
  }

  function recordCall(id: string, call: CallRecord & { uuid: string }, now: number) {
    return transition(id, {
      UpdateExpression: 'SET #call = :call, updatedAt = :now',
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(#call.#uuid) OR #call.#uuid = :uuid)',
      ExpressionAttributeNames: { '#call': 'call', '#uuid': 'uuid' },
      ExpressionAttributeValues: { ':call': call, ':uuid': call.uuid, ':now': now },
    });
  }

  function claimFallback(
    id: string,
    channel: FallbackChannel,
    now: number,
    failed?: { call: CallRecord } | { message: MessageRecord },
  ) {
    const [block, record] = !failed
      ? []
      : 'call' in failed
        ? ['call', failed.call]
        : ['message', failed.message];
    return transition(id, {
      UpdateExpression: `SET #to = :claim, updatedAt = :now${block ? ', #first = :failed' : ''}`,
      // No expiry here: the sealed token it was opened from expires with the code, and useFallback checks.
      ConditionExpression: 'attribute_not_exists(#to) AND #fallback = :true AND #status = :pending',
      ExpressionAttributeNames: {
        '#to': 'fallbackTo',
        '#fallback': 'fallback',
        '#status': 'status',
        ...(block && { '#first': block }),
      },
      ExpressionAttributeValues: {
        ':claim': { channel, state: 'claimed' },
        ':true': true,
        ':pending': 'pending',
        ':now': now,
        ...(record && { ':failed': record }),
      },
    });
  }

  function useFallback(id: string, outcome: { call: CallRecord } | { message: MessageRecord }, now: number) {
    const [block, record] = 'call' in outcome ? ['call', outcome.call] : ['message', outcome.message];
    return transition(id, {
      UpdateExpression: 'SET #to.#state = :used, #block = :record, updatedAt = :now',
      ConditionExpression: '#status = :pending AND expiresAt > :now',
      ExpressionAttributeNames: {
        '#to': 'fallbackTo',
        '#state': 'state',
        '#block': block,
        '#status': 'status',
      },
      ExpressionAttributeValues: { ':used': 'used', ':record': record, ':pending': 'pending', ':now': now },
    });
  }

  function refuseFallback(
    id: string,
    reason: string,
    outcome: { call: CallRecord } | { message: MessageRecord } | undefined,
    now: number,
  ) {
    const names: Record<string, string> = { '#to': 'fallbackTo', '#state': 'state', '#reason': 'reason' };
    const values: Record<string, unknown> = { ':refused': 'refused', ':reason': reason, ':now': now };
    const sets = ['#to.#state = :refused', '#to.#reason = :reason', 'updatedAt = :now'];
    if (outcome) {
      const [block, record] = 'call' in outcome ? ['call', outcome.call] : ['message', outcome.message];
      names['#block'] = block;
      values[':record'] = record;
      sets.push('#block = :record');
    }
    return transition(id, {
      UpdateExpression: `SET ${sets.join(', ')}`,
      // An item TTL removed meanwhile stays removed.
      ConditionExpression: 'attribute_exists(#to)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  async function transition(
    id: string,
    update: Pick<
      ConstructorParameters<typeof UpdateCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<TransitionResult> {
    try {
      const out = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: itemKeys.verification(id) },
          ...update,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { done: true, verification: fromItem(out.Attributes ?? {}) };
    } catch (error) {
      const failed = error as { name?: string; Item?: Record<string, never> };
      if (failed.name !== 'ConditionalCheckFailedException') throw storeError(error);
      // lib-dynamodb leaves this item marshalled.
      return { done: false, current: failed.Item ? fromItem(unmarshall(failed.Item)) : undefined };
    }
  }

  return {
    create,
    get,
    getState,
    reserveAttempt,
    approve,
    lockOut,
    cancel,
    fail,
    recordCallRequest,
    recordCall,
    recordMessage,
    claimFallback,
    useFallback,
    refuseFallback,
  };
}
