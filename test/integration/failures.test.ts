import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { dynamoDbStore } from '#store/dynamodb-store.ts';
import { createSendHandler } from '../../functions/send.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import { failing } from '../support/failing-store.ts';
import {
  apiEvent,
  check,
  createHarness,
  parse,
  startVerification,
  status,
  wrongCode,
} from '../support/harness.ts';

describe('a write that landed but whose answer was lost', () => {
  it("answers 202 when the SDK retries the verification's create after its first try landed", async () => {
    const h = await createHarness();
    const client = createDocumentClient(h.connection);
    let lost = 0;
    // Below the SDK's retries: the first transaction (the verification and its phone listing) reaches
    // DynamoDB, then its answer is lost to a timeout.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const items = (args.input as { TransactItems?: Array<{ Put?: { Item?: { pk?: { S?: string } } } }> })
          .TransactItems;
        if (
          context.commandName === 'TransactWriteItemsCommand' &&
          items?.[0]?.Put?.Item?.pk?.S?.startsWith('VERIFICATION#') &&
          lost++ === 0
        )
          throw Object.assign(new Error('socket timed out'), { name: 'TimeoutError', $metadata: {} });
        return out;
      },
      { step: 'deserialize', name: 'loseFirstAnswer' },
    );
    const send = createSendHandler({
      ...h.depsFor('send'),
      store: dynamoDbStore({
        db: client,
        tableName: h.tableName,
        retentionSeconds: h.config.retentionSeconds,
      }),
      telephony: h.telephony,
    });
    const sent = await send(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: '+14155550172' } }),
    );
    expect(lost).toBe(2);
    expect(sent.statusCode).toBe(202);
    expect(h.telephony.calls).toHaveLength(1);
    expect(parse(await status(h, parse(sent).id as string))).toMatchObject({ status: 'pending' });
    // The retry was the same transaction (its token): the phone's pointer lists the verification once.
    const [pointer] = (await h.scan()).filter((item) => String(item.pk).startsWith('PHONE#'));
    expect(pointer?.recent).toEqual([{ id: parse(sent).id, until: expect.any(Number) }]);
  });
});

describe('failures after the call is placed', () => {
  it('still answer 202 when the phone pointer cannot be written, so a retry places no second call', async () => {
    const h = await createHarness();
    const send = createSendHandler({
      ...h.depsFor('send'),
      store: failing(h.stores.send, 'pointPhoneTo'),
      telephony: h.telephony,
    });
    const event = apiEvent({
      method: 'POST',
      resource: '/v1/verifications',
      body: { phone: '+14155550171' },
      headers: { 'Idempotency-Key': 'retry-me' },
    });
    const first = await send(event);
    expect(first.statusCode).toBe(202);
    const again = await send(event);
    expect(again.body).toBe(first.body);
    expect(h.telephony.calls).toHaveLength(1);
    expect(parse(await status(h, parse(first).id as string))).toMatchObject({ status: 'pending' });
  });

  it('still answer 202 when the idempotency record cannot be completed', async () => {
    const h = await createHarness();
    const send = createSendHandler({
      ...h.depsFor('send'),
      store: failing(h.stores.send, 'completeIdempotencyKey'),
      telephony: h.telephony,
    });
    const response = await send(
      apiEvent({
        method: 'POST',
        resource: '/v1/verifications',
        body: { phone: '+14155550172' },
        headers: { 'Idempotency-Key': 'k' },
      }),
    );
    expect(response.statusCode).toBe(202);
  });

  it('keep the call error when marking the verification failed fails too', async () => {
    const h = await createHarness();
    const { callRejected } = await import('#channels/telephony.ts');
    h.telephony.fail = callRejected();
    const send = createSendHandler({
      ...h.depsFor('send'),
      store: failing(h.stores.send, 'fail'),
      telephony: h.telephony,
    });
    const response = await send(
      apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone: '+14155550173' } }),
    );
    expect(response.statusCode).toBe(422);
  });
});

describe('failing abuse counters', () => {
  it('do not turn a written approval into an error', async () => {
    const h = await createHarness();
    const sent = await startVerification(h, '+14155550174');
    const verify = createVerifyHandler({ ...h.depsFor('verify'), store: failing(h.stores.verify, 'count') });
    const response = await verify(
      apiEvent({
        method: 'POST',
        resource: '/v1/verifications/check',
        body: { id: sent.id, code: sent.code },
      }),
    );
    expect(parse(response)).toEqual({ id: sent.id, valid: true, status: 'approved' });
  });

  it('do not turn a counted wrong code into an error', async () => {
    const h = await createHarness();
    const sent = await startVerification(h, '+14155550175');
    const verify = createVerifyHandler({ ...h.depsFor('verify'), store: failing(h.stores.verify, 'count') });
    const response = await verify(
      apiEvent({
        method: 'POST',
        resource: '/v1/verifications/check',
        body: { id: sent.id, code: wrongCode(sent.code) },
      }),
    );
    expect(parse(response)).toMatchObject({ valid: false, attemptsLeft: 4 });
    expect(parse(await check(h, { id: sent.id, code: sent.code }))).toMatchObject({ valid: true });
  });
});
