import { randomUUID } from 'node:crypto';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { tenantUsage } from '#verification/tenant-admin.ts';
import { inParallel } from '../../bench/parallel.ts';
import { streamEvent } from '../../local/stream-reader.ts';
import {
  apiEvent,
  check,
  createHarness,
  type Harness,
  hangupParams,
  parse,
  sentCode,
  spokenCode,
  WHATSAPP_SETTINGS,
  webhookEvent,
} from '../support/harness.ts';
import { accepted, type Tenants, tenantsFor } from '../support/tenants.ts';

/**
 * Usage per tenant, UTC day, channel and country, counted by the events function from the table's stream:
 * exact under concurrent sends, the same however often the stream delivers its records, and each tenant's
 * own.
 */

const usageOf = async (h: Harness, tenantId: string, query?: Record<string, string>) => {
  const response = await h.verify(
    apiEvent({ method: 'GET', resource: '/v1/usage', apiKeyId: tenantId, ...(query && { query }) }),
  );
  expect(response.statusCode).toBe(200);
  return parse(response) as {
    from: string;
    to: string;
    totals: Record<string, number | null>;
    days: Array<Record<string, unknown>>;
  };
};

const today = () => new Date().toISOString().slice(0, 10);

const report = (uuid: string, to: string, reportStatus: string) => ({
  MessageUUID: uuid,
  To: to.slice(1),
  From: '14155550100',
  Type: 'sms',
  Status: reportStatus,
  Units: '1',
  ParentMessageUUID: uuid,
  PartInfo: '1 of 1',
});

/**
 * Traffic for one tenant, all at once: voice sends to the US, SMS sends to the US and to France (each then
 * reported sent), the first `approve` voice codes checked right, and one busy call that falls back to SMS.
 */
async function traffic(
  h: Harness,
  t: Tenants,
  tenant: { id: string },
  n: { voice: number; sms: number; approve: number },
) {
  const voicePhones = Array.from({ length: n.voice }, (_, i) => `+1415555${String(5000 + i)}`);
  const smsPhones = Array.from({ length: n.sms }, (_, i) =>
    i % 2 === 0 ? `+1415555${String(6000 + i)}` : `+3361234${String(5600 + i)}`,
  );
  const voice = await Promise.all(voicePhones.map((phone) => accepted(t.send(tenant, { phone }))));
  const sms = await Promise.all(
    smsPhones.map((phone) => accepted(t.send(tenant, { phone, channel: 'sms' }))),
  );
  // Each SMS reported sent, side by side.
  await inParallel(sms, 3, (started) => {
    const message = h.telephony.messages.find((m) => m.verificationId === started.id);
    if (!message) throw new Error('no message');
    return h.hangup(webhookEvent(message.statusUrl, report(randomUUID(), message.to, 'sent')));
  });
  await inParallel(voice.slice(0, n.approve), 3, (started) => {
    const call = h.telephony.calls.find((c) => c.verificationId === started.id);
    if (!call) throw new Error('no call');
    return check(h, { id: started.id, code: spokenCode(h, call) }, tenant.id);
  });
  // The last voice call is busy: the same code goes out by SMS, and Plivo reports on it.
  const last = voice.at(-1);
  const call = h.telephony.calls.find((c) => c.verificationId === last?.id);
  if (!call) throw new Error('no call');
  await h.hangup(
    webhookEvent(
      call.hangupUrl,
      hangupParams(randomUUID(), { CallStatus: 'busy', Duration: '0', BillDuration: '0', AnswerTime: '' }),
    ),
  );
  const fallback = h.telephony.messages.find((m) => m.verificationId === last?.id);
  if (!fallback) throw new Error('no fallback SMS');
  expect(sentCode(h, fallback)).toMatch(/^\d{6}$/);
  await h.hangup(webhookEvent(fallback.statusUrl, report(randomUUID(), fallback.to, 'delivered')));
}

describe('usage', () => {
  it.each(['1', '3'])(
    'counts every verification once per figure, by day, channel and country, under concurrency (%s shards)',
    async (shards) => {
      const h = await createHarness({ COUNTER_SHARDS: shards }, { stream: true });
      const t = await tenantsFor(h);
      const a = await t.create({});
      const b = await t.create({});
      await Promise.all([
        traffic(h, t, a, { voice: 7, sms: 4, approve: 3 }),
        traffic(h, t, b, { voice: 2, sms: 0, approve: 1 }),
      ]);
      expect((await h.drainStream()).batchItemFailures).toEqual([]);
      const day = today();
      expect(await usageOf(h, a.id)).toEqual({
        from: day,
        to: day,
        totals: {
          started: 11,
          approved: 3,
          callsPlaced: 7,
          messagesSent: 5,
          fallbacks: 1,
          conversionRate: 0.2727,
        },
        days: [
          {
            date: day,
            channel: 'sms',
            country: 'FR',
            started: 2,
            approved: 0,
            callsPlaced: 0,
            messagesSent: 2,
            fallbacks: 0,
            conversionRate: 0,
          },
          {
            date: day,
            channel: 'sms',
            country: 'US',
            started: 2,
            approved: 0,
            callsPlaced: 0,
            messagesSent: 2,
            fallbacks: 0,
            conversionRate: 0,
          },
          // The busy call's fallback SMS is counted under its verification's first channel.
          {
            date: day,
            channel: 'voice',
            country: 'US',
            started: 7,
            approved: 3,
            callsPlaced: 7,
            messagesSent: 1,
            fallbacks: 1,
            conversionRate: 0.4286,
          },
        ],
      });
      // Another tenant sees its own, and only through its own key.
      expect((await usageOf(h, b.id)).totals).toEqual({
        started: 2,
        approved: 1,
        callsPlaced: 2,
        messagesSent: 1,
        fallbacks: 1,
        conversionRate: 0.5,
      });
      // The operator's view is the same report.
      expect(await tenantUsage(t.admin, a.id, {})).toEqual(await usageOf(h, a.id));
    },
  );

  it('counts WhatsApp under its own channel, and its SMS fallback as a fallback once the message failed', async () => {
    const h = await createHarness({ ...WHATSAPP_SETTINGS }, { stream: true });
    const t = await tenantsFor(h);
    const a = await t.create({});
    const phones = ['+14155557001', '+14155557002'];
    const [read, failed] = await Promise.all(
      phones.map((phone) => accepted(t.send(a, { phone, channel: 'whatsapp' }))),
    );
    const whatsAppOf = (id: string | undefined) => {
      const message = h.telephony.whatsApps.find((w) => w.verificationId === id);
      if (!message) throw new Error('no WhatsApp message');
      return message;
    };
    const waReport = (to: string, uuid: string, reportStatus: string) => ({
      ...report(uuid, to, reportStatus),
      Type: 'whatsapp',
      ...(reportStatus === 'failed' ? { ErrorCode: '900' } : {}),
    });
    const first = whatsAppOf(read?.id as string);
    const second = whatsAppOf(failed?.id as string);
    await h.hangup(webhookEvent(first.statusUrl, waReport(first.to, randomUUID(), 'read')));
    // The second is reported sent, then failed: the same code goes out by SMS, which is delivered.
    const uuid = randomUUID();
    await h.hangup(webhookEvent(second.statusUrl, waReport(second.to, uuid, 'sent')));
    await h.hangup(webhookEvent(second.statusUrl, waReport(second.to, uuid, 'failed')));
    const fallback = h.telephony.messages.find((m) => m.verificationId === failed?.id);
    if (!fallback) throw new Error('no fallback SMS');
    await h.hangup(webhookEvent(fallback.statusUrl, report(randomUUID(), fallback.to, 'delivered')));
    expect((await h.drainStream()).batchItemFailures).toEqual([]);
    const day = today();
    expect((await usageOf(h, a.id)).days).toEqual([
      {
        date: day,
        channel: 'whatsapp',
        country: 'US',
        started: 2,
        approved: 0,
        callsPlaced: 0,
        messagesSent: 3,
        fallbacks: 1,
        conversionRate: 0,
      },
    ]);
  });

  it('a record the stream delivers again, or twice at once, counts nothing twice', async () => {
    const h = await createHarness({}, { stream: true });
    const t = await tenantsFor(h);
    const a = await t.create({});
    await traffic(h, t, a, { voice: 4, sms: 2, approve: 2 });
    let records: DynamoDBRecord[] = [];
    await h.drainStream((all) => {
      records = all;
      return all;
    });
    const once = await usageOf(h, a.id);
    expect(once.totals).toMatchObject({
      started: 6,
      approved: 2,
      callsPlaced: 4,
      messagesSent: 3,
      fallbacks: 1,
    });
    // Lambda retries a batch whole, or two invocations overlap: the same records again, side by side.
    const results = await Promise.all([h.events(streamEvent(records)), h.events(streamEvent(records))]);
    // A record that lost a race to its own redelivery is retried, as Lambda would.
    for (const result of results) {
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      const again = records.filter((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
      if (again.length > 0) expect((await h.events(streamEvent(again))).batchItemFailures).toEqual([]);
    }
    expect(await usageOf(h, a.id)).toEqual(once);
  });

  it('is counted off the request path: a send or a check writes no usage', async () => {
    const h = await createHarness({}, { stream: true });
    const t = await tenantsFor(h);
    const a = await t.create({});
    const started = await accepted(t.send(a, { phone: '+14155550123' }));
    const call = h.telephony.calls.at(-1);
    if (!call) throw new Error('no call');
    await check(h, { id: started.id, code: spokenCode(h, call) }, a.id);
    expect((await h.scan()).filter((item) => String(item.pk).startsWith('USAGE#'))).toEqual([]);
    expect((await usageOf(h, a.id)).totals).toMatchObject({ started: 0, approved: 0 });
    await h.drainStream();
    expect((await usageOf(h, a.id)).totals).toMatchObject({ started: 1, approved: 1, callsPlaced: 1 });
  });

  it('covers the days asked for: nothing on days without traffic, and at most 90 days', async () => {
    const h = await createHarness({}, { stream: true });
    const t = await tenantsFor(h);
    const a = await t.create({});
    await accepted(t.send(a, { phone: '+14155550123' }));
    await h.drainStream();
    const day = today();
    const before = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
    expect((await usageOf(h, a.id, { from: before, to: day })).days).toHaveLength(1);
    expect(await usageOf(h, a.id, { to: before })).toMatchObject({ from: before, to: before, days: [] });
    await expect(tenantUsage(t.admin, a.id, { from: '2026-01-01', to: '2026-12-31' })).rejects.toMatchObject({
      status: 400,
    });
  });
});
