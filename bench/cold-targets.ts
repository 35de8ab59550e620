import { marshall } from '@aws-sdk/util-dynamodb';
import type { Delivery } from '#events/webhook-sink.ts';
import type { HttpResult } from '#platform/http.ts';
import { keys } from '#store/table.ts';
import type { BuiltBundle } from './build-bundles.ts';
import type { ColdTarget } from './cold-start.ts';
import {
  answerParams,
  BENCH_API_KEY_ID,
  checkEvent,
  hangupParams,
  sendEvent,
  signedWebhook,
  smsSendEvent,
} from './events.ts';
import { benchPhones, type Fixture, fixtureMaker, webhookFixture } from './fixtures.ts';
import { type PlivoApi, WEBHOOK_RECEIVER_PATH } from './plivo-simulator.ts';
import { SMS_SEND } from './routes.ts';

/**
 * What each cold process handles: a real event on the happy path, fresh per sample (its own phone number,
 * its own pending verification), so no sample is a refusal or a replay.
 */
export interface ColdEvents {
  phones: readonly string[];
  /** Numbers for the SMS sends, none of them in `phones`: a send to the same number would supersede. */
  smsPhones: readonly string[];
  fixtures: readonly Fixture[];
  authToken: string;
  /** The API key whose webhook (bench/fixtures.ts `webhookFixture`) the deliver target posts to. */
  webhookApiKeyId: string;
}

/** Not the API key the other targets use: theirs has no webhook, so the events function queues nothing. */
const WEBHOOK_API_KEY_ID = 'bench-webhooks';

/** `total` fresh events for every target, and the webhook the deliver target posts to (the simulator). */
export async function prepareColdEvents(
  env: Record<string, string>,
  plivo: PlivoApi,
  total: number,
): Promise<ColdEvents> {
  await webhookFixture(env, WEBHOOK_API_KEY_ID, `${plivo.apiUrl}${WEBHOOK_RECEIVER_PATH}`);
  return {
    phones: benchPhones(total),
    smsPhones: benchPhones(total, 4 * total),
    fixtures: await fixtureMaker(env, BENCH_API_KEY_ID)(benchPhones(3 * total, total)),
    authToken: plivo.authToken,
    webhookApiKeyId: WEBHOOK_API_KEY_ID,
  };
}

/** A delivery the function dropped (no webhook) answers like a delivered one: count what arrived. */
export function checkDeliveries(plivo: PlivoApi, samples: number) {
  const received = plivo.webhooksReceived();
  if (received !== samples)
    throw new Error(`deliver cold starts: ${received} of ${samples} webhooks arrived`);
}

type Result = Partial<HttpResult> | null;
const ok =
  (status: number, also: (body: string) => boolean = () => true) =>
  (result: Result) =>
    result?.statusCode === status && also(result.body ?? '');

const pick = <T>(items: readonly T[], sample: number): T => {
  const item = items[sample];
  if (item === undefined) throw new Error(`no cold-start event prepared for sample ${sample}`);
  return item;
};

export function coldTargets(
  bundles: readonly BuiltBundle[],
  events: ColdEvents,
  env: Record<string, string>,
): ColdTarget[] {
  const bundle = (name: BuiltBundle['name']) => bundles.find((b) => b.name === name)?.file;
  // Each target takes its own fixtures: verify approves its verification, so none can be shared.
  const fixtures = (target: number) => (sample: number) => pick(events.fixtures, 3 * sample + target);
  const verifyFixture = fixtures(0);
  const answerFixture = fixtures(1);
  const hangupFixture = fixtures(2);
  return [
    { name: 'node', bundle: undefined, env, event: () => null, accept: () => true },
    {
      name: 'floor',
      bundle: bundle('floor'),
      env,
      event: (sample) => ({ pk: `VERIFICATION#${hangupFixture(sample).id}` }),
      accept: ok(200),
    },
    {
      name: 'send',
      bundle: bundle('send'),
      env,
      event: (sample) => sendEvent(pick(events.phones, sample)),
      accept: ok(202, (body) => body.includes('"channel":"voice"')),
    },
    {
      name: SMS_SEND,
      bundle: bundle('send'),
      env,
      event: (sample) => smsSendEvent(pick(events.smsPhones, sample)),
      accept: ok(202, (body) => body.includes('"channel":"sms"')),
    },
    {
      name: 'verify',
      bundle: bundle('verify'),
      env,
      event: (sample) => checkEvent(verifyFixture(sample).id, verifyFixture(sample).code),
      accept: ok(200, (body) => body.includes('"valid":true')),
    },
    {
      name: 'answer',
      bundle: bundle('answer'),
      env,
      event: (sample) =>
        signedWebhook(answerFixture(sample).answerUrl, answerParams(`cold-${sample}`), events.authToken),
      accept: ok(200, (body) => body.includes('<Speak')),
    },
    {
      name: 'events',
      bundle: bundle('events'),
      env,
      // The stream record of an approval: counted for the fraud guard once (one transaction), one PutEvents.
      event: (sample) => approvalRecord(answerFixture(sample).id, sample),
      accept: (result) => JSON.stringify(result) === '{"batchItemFailures":[]}',
    },
    {
      name: 'deliver',
      bundle: bundle('deliver'),
      // The receiver is the simulator on 127.0.0.1, which only the local stack's setting lets a webhook use.
      env: { ...env, WEBHOOK_ALLOW_LOCALHOST: 'true' },
      // One queued delivery of an approval; a dropped one (no webhook) would answer the same, so
      // checkDeliveries also counts what the receiver got.
      event: (sample) => deliveryRecord(events.webhookApiKeyId, answerFixture(sample).id, sample),
      accept: (result) => JSON.stringify(result) === '{"batchItemFailures":[]}',
    },
    {
      name: 'hangup',
      bundle: bundle('hangup'),
      env,
      event: (sample) =>
        signedWebhook(hangupFixture(sample).hangupUrl, hangupParams(`cold-${sample}`), events.authToken),
      accept: ok(200),
    },
  ];
}

/** An SQS event with one message: the delivery of a verification.approved event, first attempt. */
function deliveryRecord(apiKeyId: string, id: string, sample: number) {
  const delivery: Delivery = {
    id: `evt_bench${sample}`,
    apiKeyId,
    payload: {
      type: 'verification.approved',
      createdAt: new Date().toISOString(),
      data: { verificationId: id, status: 'approved', channel: 'voice', to: '+1********23' },
    },
  };
  return {
    Records: [
      {
        messageId: `bench-${sample}`,
        receiptHandle: `bench-receipt-${sample}`,
        body: JSON.stringify(delivery),
        attributes: { ApproximateReceiveCount: '1' },
        messageAttributes: {},
        eventSource: 'aws:sqs',
      },
    ],
  };
}

/** A DynamoDB stream event with one record: verification `id` going from pending to approved. */
function approvalRecord(id: string, sample: number) {
  const now = Date.now();
  const verification = {
    pk: keys.verification(id),
    id,
    apiKeyId: 'bench',
    status: 'pending',
    channel: 'voice',
    to: '+1********23',
    createdAt: now,
    expiresAt: now + 300_000,
    updatedAt: now,
    call: { status: 'queued' },
    guardWindow: `GUARD#bench#${sample}`,
  };
  return {
    Records: [
      {
        eventID: `bench-${sample}`,
        eventName: 'MODIFY',
        eventSource: 'aws:dynamodb',
        dynamodb: {
          Keys: marshall({ pk: verification.pk }),
          OldImage: marshall(verification),
          NewImage: marshall({ ...verification, status: 'approved' }),
          SequenceNumber: String(sample + 1),
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      },
    ],
  };
}
