import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { callRejected } from '#channels/telephony.ts';
import { showTenant } from '#verification/tenant-admin.ts';
import {
  answerParams,
  apiEvent,
  check,
  createHarness,
  type Harness,
  hangupParams,
  parse,
  sentCode,
  spokenCode,
  status,
  webhookEvent,
} from '../support/harness.ts';
import { accepted, tenantsFor } from '../support/tenants.ts';

/**
 * What a tenant's settings do to its sends, and only to its own: app name, code length and lifetime, locale,
 * channels, fallback, daily cap, and a disabled tenant; each a real send through the handlers, the settings
 * written by the operator's operations.
 */

/** Unanswered: nothing billed, no answer time (a fallback follows when asked for). */
const busy = (uuid: string) =>
  hangupParams(uuid, {
    CallStatus: 'busy',
    Duration: '0',
    BillDuration: '0',
    TotalCost: '0.00000',
    AnswerTime: '',
  });

const countersOf = async (h: Harness) =>
  (await h.scan()).filter((item) => /^(RATE|GUARD)#/.test(String(item.pk)));

const verificationsOf = async (h: Harness) =>
  (await h.scan()).filter((item) => String(item.pk).startsWith('VERIFICATION#'));

describe('app name, code length and lifetime, locale', () => {
  it('the call speaks and the SMS writes the tenant’s app name, codes have its length and life', async () => {
    const h = await createHarness({ APP_NAME: 'Stack Default' });
    const t = await tenantsFor(h);
    const acme = await t.create({ appName: 'Acme', codeLength: '8', codeTtlSeconds: '120' });
    const other = await t.create({});

    const voice = await accepted(t.send(acme, { phone: '+14155550101' }));
    const call = h.telephony.calls.at(-1);
    if (!call) throw new Error('no call');
    const code = spokenCode(h, call);
    expect(code).toMatch(/^\d{8}$/);
    expect(Date.parse(String(voice.expiresAt)) - Date.parse(String(voice.createdAt))).toBe(120_000);
    const xml = (await h.answer(webhookEvent(call.answerUrl, answerParams('c-1')))).body;
    expect(xml).toContain('This is Acme.');
    expect(xml).not.toContain('Stack Default');
    expect(parse(await check(h, { id: voice.id, code }, acme.id))).toMatchObject({ valid: true });

    await accepted(t.send(acme, { phone: '+14155550102', channel: 'sms' }));
    const sms = h.telephony.messages.at(-1);
    if (!sms) throw new Error('no sms');
    expect(sms.text).toBe(`Your Acme code is ${sentCode(h, sms)}. It expires in 2 minutes. Do not share it.`);

    // Another tenant, and the same phone: the stack's settings.
    await accepted(t.send(other, { phone: '+14155550103', channel: 'sms' }));
    const plain = h.telephony.messages.at(-1);
    expect(plain?.text).toMatch(/^Your Stack Default code is \d{6}\. It expires in 5 minutes\./);
  });

  it('settings are fixed at creation: a later change never reaches a call already out (answer reads no settings)', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const acme = await t.create({ appName: 'Acme' });
    await accepted(t.send(acme, { phone: '+14155550104' }));
    const call = h.telephony.calls.at(-1);
    if (!call) throw new Error('no call');
    await t.set(acme.id, { appName: 'Renamed' });
    const before = h.dynamoCalls.length;
    const xml = (await h.answer(webhookEvent(call.answerUrl, answerParams('c-2')))).body;
    expect(xml).toContain('This is Acme.');
    // Answer's one read: the verification's state, never the tenant's item.
    expect(h.dynamoCalls.slice(before)).toEqual(['GetItemCommand']);
  });

  it('the fallback SMS, sent by hangup from the sealed token, writes the tenant’s name and code', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const acme = await t.create({ appName: 'Acme', codeLength: '7' });
    const started = await accepted(t.send(acme, { phone: '+14155550105' }));
    const call = h.telephony.calls.at(-1);
    if (!call) throw new Error('no call');
    const code = spokenCode(h, call);
    await h.hangup(webhookEvent(call.hangupUrl, busy(randomUUID())));
    expect(h.telephony.messages.at(-1)?.text).toMatch(
      new RegExp(`^Your Acme code is ${code}\\. It expires in [45] minutes`),
    );
    expect(parse(await status(h, String(started.id), acme.id))).toMatchObject({
      fallback: { channel: 'sms', reason: null },
    });
  });

  it('the tenant’s default locale, unless the send names one', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const es = await t.create({ defaultLocale: 'es-ES' });
    expect((await accepted(t.send(es, { phone: '+14155550106', channel: 'sms' }))).locale).toBe('es-ES');
    expect(h.telephony.messages.at(-1)?.text).toMatch(
      /^Su clave de Voice OTP es \d{6}\. Caduca en 5 minutos/,
    );
    expect((await accepted(t.send(es, { phone: '+14155550107', locale: 'fr-FR' }))).locale).toBe('fr-FR');
  });
});

describe('channels and fallback', () => {
  it('a channel the tenant may not use: 403 channel_not_allowed, and nothing is written or sent', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const smsOnly = await t.create({ channels: 'sms' });
    const counters = await countersOf(h);
    const refused = await t.send(smsOnly, { phone: '+14155550110', channel: 'voice' });
    expect(refused.statusCode).toBe(403);
    expect(parse(refused)).toEqual({
      error: { code: 'channel_not_allowed', message: 'The voice channel is not enabled for this API key.' },
    });
    // Asking for a fallback to a channel it may not use is refused the same way.
    const fallback = await t.send(smsOnly, { phone: '+14155550110', channel: 'sms', fallback: true });
    expect(parse(fallback)).toMatchObject({ error: { code: 'channel_not_allowed' } });
    expect(h.telephony.calls).toHaveLength(0);
    expect(h.telephony.messages).toHaveLength(0);
    expect(await verificationsOf(h)).toEqual([]);
    // What the refused sends took of the key's own counters was given back.
    const after = await countersOf(h);
    for (const item of after) {
      const before = counters.find((c) => c.pk === item.pk);
      for (const [name, value] of Object.entries(item))
        if (name !== 'ttl' && typeof value === 'number' && !/At$/.test(name))
          expect(value, `${String(item.pk)} ${name}`).toBe(before?.[name] ?? 0);
    }
  });

  it('a send naming no channel uses the stack’s default when allowed, else the tenant’s first', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const smsOnly = await t.create({ channels: 'sms' });
    const both = await t.create({ channels: 'sms,voice' });
    expect((await accepted(t.send(smsOnly, { phone: '+14155550111' }))).channel).toBe('sms');
    expect((await accepted(t.send(both, { phone: '+14155550112' }))).channel).toBe('voice');
  });

  it('no fallback to a channel the tenant may not use, and the tenant’s fallback default', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const voiceOnly = await t.create({ channels: 'voice' });
    const noFallback = await t.create({ fallback: 'false' });
    for (const [tenant, phone] of [
      [voiceOnly, '+14155550113'],
      [noFallback, '+14155550114'],
    ] as const) {
      await accepted(t.send(tenant, { phone }));
      const call = h.telephony.calls.at(-1);
      if (!call) throw new Error('no call');
      await h.hangup(webhookEvent(call.hangupUrl, busy(randomUUID())));
    }
    expect(h.telephony.messages).toHaveLength(0);
    // The send's own `fallback` still wins over the tenant's default.
    await accepted(t.send(noFallback, { phone: '+14155550115', fallback: true }));
    const call = h.telephony.calls.at(-1);
    if (!call) throw new Error('no call');
    await h.hangup(webhookEvent(call.hangupUrl, busy(randomUUID())));
    expect(h.telephony.messages).toHaveLength(1);
  });

  it('a refusal at send falls back only where the tenant may go', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const voiceOnly = await t.create({ channels: 'voice' });
    h.telephony.failCalls = callRejected();
    const refused = await t.send(voiceOnly, { phone: '+14155550116' });
    expect(parse(refused)).toMatchObject({ error: { code: 'call_rejected' } });
    expect(h.telephony.messages).toHaveLength(0);
  });
});

describe('daily cap', () => {
  it.each(['1', '4'])(
    'a tenant’s own cap, below the stack’s, admits exactly that many however sends race (%s shards)',
    async (shards) => {
      const h = await createHarness({ COUNTER_SHARDS: shards, API_KEY_MAX_PER_DAY: '1000' });
      const t = await tenantsFor(h);
      const capped = await t.create({ maxPerDay: '7' });
      const other = await t.create({});
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.send(capped, { phone: `+1415555${String(2000 + i).padStart(4, '0')}` }),
        ),
      );
      const codes = results.map((r) => r.statusCode);
      expect(codes.filter((c) => c === 202)).toHaveLength(7);
      expect(codes.filter((c) => c === 429)).toHaveLength(13);
      const refusal = parse(results[codes.indexOf(429)] ?? results[0] ?? { body: '{}' });
      expect(refusal).toMatchObject({
        error: {
          code: 'rate_limited',
          message: 'This API key has sent as many verifications as it may today.',
        },
      });
      // Its day's counter holds exactly what it admitted; another tenant's cap is its own.
      const day = (await countersOf(h)).filter((item) =>
        String(item.pk).startsWith(`RATE#keyday#${capped.id}`),
      );
      expect(day.reduce((sum, item) => sum + Number(item.n ?? 0), 0)).toBe(7);
      for (let i = 0; i < 10; i++)
        await accepted(t.send(other, { phone: `+1415555${String(3000 + i).padStart(4, '0')}` }));
    },
  );

  it('a fallback counts against the tenant’s cap too, from its verification (hangup reads no settings)', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const capped = await t.create({ maxPerDay: '1' });
    const started = await accepted(t.send(capped, { phone: '+14155550117' }));
    const call = h.telephony.calls.at(-1);
    if (!call) throw new Error('no call');
    // Raise the cap in the tenant's item: the fallback still obeys the one fixed on its verification.
    await t.set(capped.id, { maxPerDay: '100' });
    const before = h.dynamoCalls.length;
    await h.hangup(webhookEvent(call.hangupUrl, busy(randomUUID())));
    const hangupCalls = h.dynamoCalls.slice(before);
    expect(h.telephony.messages).toHaveLength(0);
    expect(parse(await status(h, String(started.id), capped.id))).toMatchObject({
      fallback: { channel: 'sms', reason: 'rate_limited' },
    });
    expect((await h.scan()).find((item) => item.id === started.id)).toMatchObject({ dayCap: 1 });
    // Its reads: the fraud guard's BatchGetItem, never the tenant's item.
    expect(hangupCalls).not.toContain('GetItemCommand');
  });
});

describe('the stack’s limits', () => {
  it('hold whatever a tenant’s item says (the stack lowered after the tenant set its own)', async () => {
    const h = await createHarness({ API_KEY_MAX_PER_DAY: '2', CODE_TTL_SECONDS: '120', CHANNELS: 'voice' });
    const t = await tenantsFor(h);
    const wide = await t.create({});
    // Written as an older, wider stack allowed it.
    await t.admin.store.updateTenant(
      wide.id,
      {
        name: 'Tenant',
        settings: { set: { maxPerDay: 100, codeTtlSeconds: 3600, channels: ['voice', 'sms'] }, unset: [] },
      },
      h.clock.now,
    );
    const first = await accepted(t.send(wide, { phone: '+14155550130' }));
    expect(Date.parse(String(first.expiresAt)) - Date.parse(String(first.createdAt))).toBe(120_000);
    expect(parse(await t.send(wide, { phone: '+14155550131', channel: 'sms' }))).toMatchObject({
      error: { code: 'channel_not_allowed' },
    });
    await accepted(t.send(wide, { phone: '+14155550132' }));
    expect(parse(await t.send(wide, { phone: '+14155550133' }))).toMatchObject({
      error: { code: 'rate_limited' },
    });
  });
});

describe('a disabled tenant', () => {
  it('its item alone already refuses sends (403 forbidden) while the gateway’s change is under way', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const off = await t.create({});
    const on = await t.create({});
    // The item, not the key: as if the command stopped between its two steps.
    await t.admin.store.updateTenant(off.id, { name: 'Tenant', disabled: true }, h.clock.now);
    const refused = await t.send(off, { phone: '+14155550118' });
    expect(refused.statusCode).toBe(403);
    expect(parse(refused)).toMatchObject({ error: { code: 'forbidden' } });
    expect(h.telephony.calls).toHaveLength(0);
    await accepted(t.send(on, { phone: '+14155550118' }));
    expect((await showTenant(t.admin, off.id)).disabled).toBe(true);
  });
});

describe('settings checked before anything is written', () => {
  it('a bad value is a 400 naming it, and the tenant stays as it was', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const acme = await t.create({ appName: 'Acme', codeLength: '8' });
    const before = await showTenant(t.admin, acme.id);
    const items = await h.scan();
    for (const bad of [
      { codeLength: '12' },
      { appName: 'Acme', channels: 'voice,fax' },
      { maxPerDay: String(h.config.abuse.apiKeyMaxPerDay + 1) },
      { appName: 'New name', safeList: '+14155550119,not-a-number' },
      { safeList: Array.from({ length: 51 }, (_, i) => `+1415555${String(4000 + i)}`).join(',') },
    ]) {
      await expect(t.set(acme.id, bad)).rejects.toMatchObject({ status: 400 });
    }
    expect(await showTenant(t.admin, acme.id)).toEqual(before);
    expect(await h.scan()).toEqual(items);
  });

  it('creating with a bad value makes no key and no item', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const keys = await t.keys.list();
    const items = await h.scan();
    await expect(t.create({ codeTtlSeconds: '30' })).rejects.toMatchObject({ status: 400 });
    await expect(t.create({}, '')).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await t.keys.list()).toEqual(keys);
    expect(await h.scan()).toEqual(items);
  });

  it('an empty value returns a setting to the stack’s', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const acme = await t.create({ appName: 'Acme', codeLength: '8' });
    expect(await t.set(acme.id, { appName: '' })).toMatchObject({ settings: { codeLength: 8 } });
    await accepted(t.send(acme, { phone: '+14155550120', channel: 'sms' }));
    expect(h.telephony.messages.at(-1)?.text).toMatch(/^Your Voice OTP code is \d{8}\./);
  });
});

describe('a rotated key', () => {
  it('reaches the functions as its tenant: same verifications, same settings', async () => {
    const h = await createHarness();
    const t = await tenantsFor(h);
    const acme = await t.create({ appName: 'Acme' });
    const started = await accepted(t.send(acme, { phone: '+14155550121' }));
    const { rotateTenantKey } = await import('#verification/tenant-admin.ts');
    const rotated = await rotateTenantKey(t.admin, acme.id);
    expect(rotated.id).toBe(acme.id);
    const newKey = (await t.keys.list()).find((key) => key.tenantId === acme.id);
    if (!newKey) throw new Error('no key');
    expect(newKey.id).not.toBe(acme.id);
    // The identity API Gateway hands over for the new key: its own id, and its value.
    const viaNew = await h.verify(
      apiEvent({
        method: 'GET',
        resource: '/v1/verifications/{id}',
        path: `/v1/verifications/${started.id}`,
        pathParameters: { id: String(started.id) },
        apiKeyId: newKey.id,
        apiKey: rotated.apiKey,
      }),
    );
    expect(parse(viaNew)).toMatchObject({ id: started.id, status: 'pending' });
    // The old key is gone from the gateway.
    expect(t.keys.authenticate(acme.apiKey)).toBeUndefined();
    expect(t.keys.authenticate(rotated.apiKey)).toEqual({ apiKeyId: newKey.id, apiKey: rotated.apiKey });
  });
});
