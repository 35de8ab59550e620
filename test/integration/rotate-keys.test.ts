import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openWebhookSecret, sealWebhookSecret } from '#events/webhook-secret.ts';
import { parseKeyRing } from '#platform/keyring.ts';
import type { Secrets } from '#platform/secrets.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { webhookSecretStore } from '#store/dynamodb-webhooks.ts';
import type { WebhookSecretStore } from '#store/store.ts';
import { createSendHandler } from '../../functions/send.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import { rotateKeys } from '../../ops/rotate-keys.ts';
import { type AwsStandIn, awsStandIn, standInClientConfig } from '../support/aws-stand-in.ts';
import type { CapturedRequest } from '../support/capture-server.ts';
import { outcomeEvent } from '../support/events.ts';
import { API_KEY_ID, apiEvent, createHarness, parse, spokenCode } from '../support/harness.ts';
import {
  deliveryPipeline,
  settled,
  setWebhook,
  stopWebhookParts,
  webhookReceiver,
} from '../support/webhooks.ts';

/**
 * `npm run rotate-keys` against a stand-in for Secrets Manager's API (versions and staging labels as AWS
 * documents them), on real verifications and app webhooks in DynamoDB Local: the functions read the ring the
 * command writes, as a container does after its cache expired. Each test has a rotation of its own (secret,
 * table, clock), so every test runs alone and in any order.
 */

const TIMINGS = { codeTtlSeconds: 300, retentionSeconds: 86_400, cacheSeconds: 300 };
const HOUR = 3_600_000;
/** Switch, then a cache age, a code's life and the retention period. */
const PHASE_2_WAIT = (300 + 300 + 86_400) * 1000;
/** The ring as the stack creates it: one key, no record of when it was added. */
const STACK_RING = JSON.stringify({ current: 'k1', k1: 'm'.repeat(43) });

let standIn: AwsStandIn;
beforeAll(async () => {
  standIn = await awsStandIn();
});
afterAll(() => standIn.close());
afterEach(() => stopWebhookParts());

/**
 * One rotation: a secret in the stand-in, a table with the functions reading that secret, and the command's
 * own clock, which it moves instead of waiting.
 */
async function rotation(ring = STACK_RING, start = Date.parse('2026-11-30T09:00:00Z')) {
  const secretId = `arn:aws:secretsmanager:us-east-1:123456789012:secret:KeyRing-${randomUUID()}`;
  standIn.secrets.set(secretId, ring);
  const h = await createHarness({ WEBHOOK_ALLOW_LOCALHOST: 'true' });
  const secret = () => standIn.secrets.get(secretId) ?? '';
  const secrets: Secrets = {
    keyRing: async () => parseKeyRing(secret()),
    plivo: async () => ({ authId: 'MATESTAUTHID', authToken: 'test-auth-token' }),
  };
  const send = createSendHandler({ ...h.depsFor('send'), secrets, telephony: h.telephony });
  const webhooks: WebhookSecretStore = webhookSecretStore({
    db: createDocumentClient(h.connection),
    tableName: h.tableName,
    retentionSeconds: 0,
  });
  const verify = createVerifyHandler({ ...h.depsFor('verify'), secrets });
  const world = {
    h,
    secretId,
    now: start,
    printed: [] as string[],
    /** Every key material the secret held while the command ran. */
    materials: new Set<string>(),
    secrets,
    send,
    verify,
    /** What the command reseals through; a test may wrap it. */
    webhooks,
    secret,
    parsed: () => JSON.parse(secret()) as Record<string, unknown>,
    keyIds: () =>
      Object.keys(JSON.parse(secret()) as object).filter((k) => !['current', 'added'].includes(k)),
    client: new SecretsManagerClient(standInClientConfig(standIn)),
    remember() {
      for (const id of world.keyIds()) world.materials.add(world.parsed()[id] as string);
    },
    run() {
      world.printed = [];
      world.remember();
      return rotateKeys({
        secrets: world.client,
        secretId,
        webhooks: world.webhooks,
        timings: TIMINGS,
        now: () => world.now,
        sleep: async (ms) => {
          world.remember();
          world.now += ms;
        },
        print: (line) => world.printed.push(line),
      }).finally(() => world.remember());
    },
    async start(phone: string) {
      const response = await send(
        apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } }),
      );
      expect(response.statusCode).toBe(202);
      const call = h.telephony.calls.at(-1);
      if (!call) throw new Error('no call');
      return {
        id: parse(response).id as string,
        code: spokenCode({ keyRingSecret: secret(), clock: h.clock }, call),
      };
    },
    check: async (body: Record<string, string>) =>
      parse(await verify(apiEvent({ method: 'POST', resource: '/v1/verifications/check', body }))),
  };
  return world;
}

describe('npm run rotate-keys', () => {
  it('phase 1 adds a key, waits for the caches, makes it current and records when; codes made before still verify', async () => {
    const r = await rotation();
    const before = await r.start('+14155550160');
    const byPhoneBefore = await r.start('+14155550161');
    const writes = standIn.writes.length;

    expect(await r.run()).toBe(0);
    expect(r.parsed()).toMatchObject({
      current: 'k2',
      added: { k2: '2026-11-30T09:00:00.000Z', 'k2:current': '2026-11-30T09:05:00.000Z' },
    });
    expect(r.keyIds()).toEqual(['k1', 'k2']);
    // It waited one cache age before switching, saying so.
    expect(r.now).toBeGreaterThanOrEqual(Date.parse('2026-11-30T09:05:00Z'));
    expect(r.printed.some((line) => line.startsWith('Waiting'))).toBe(true);
    expect(standIn.writes.slice(writes).map((w) => JSON.parse(w).current)).toEqual(['k1', 'k2']);

    expect(await r.check({ id: before.id, code: before.code })).toMatchObject({ valid: true });
    expect(await r.check({ phone: '+14155550161', code: byPhoneBefore.code })).toMatchObject({ valid: true });
    const after = await r.start('+14155550162');
    expect((await r.h.scan()).find((item) => item.id === after.id)?.keyId).toBe('k2');
    expect(await r.check({ phone: '+14155550162', code: after.code })).toMatchObject({ valid: true });
  });

  it('phase 2 waits from the switch, not from the add: an operator who paused between them cannot remove early', async () => {
    const r = await rotation();
    // Phase 1 interrupted right after the add (the command stopped while waiting for the caches)...
    const add = r.run();
    await add;
    const added = standIn.writes.find((w) => JSON.parse(w).current === 'k1' && JSON.parse(w).k2);
    standIn.secrets.set(r.secretId, added ?? '');
    expect(r.parsed().current).toBe('k1');
    // ...and resumed three days later: the switch happens now.
    r.now += 72 * HOUR;
    const switchedAt = r.now;
    expect(await r.run()).toBe(0);
    expect(r.parsed().current).toBe('k2');

    // Right after the switch, containers may still make codes under k1: phase 2 refuses, and says when.
    const writes = standIn.writes.length;
    expect(await r.run()).toBe(2);
    expect(r.printed.join('\n')).toContain(new Date(switchedAt + PHASE_2_WAIT).toISOString().slice(0, 19));
    expect(standIn.writes).toHaveLength(writes);
    r.now = switchedAt + PHASE_2_WAIT - 1000;
    expect(await r.run()).toBe(2);
    expect(r.keyIds()).toEqual(['k1', 'k2']);
  });

  it('phase 2 removes the old key once safe; codes under the current key still verify', async () => {
    const r = await rotation();
    expect(await r.run()).toBe(0);
    const pending = await r.start('+14155550163');
    const switchedAt = Date.parse((r.parsed().added as Record<string, string>)['k2:current'] ?? '');
    r.now = switchedAt + PHASE_2_WAIT;
    expect(await r.run()).toBe(0);
    expect(r.keyIds()).toEqual(['k2']);
    expect(r.parsed()).toMatchObject({
      current: 'k2',
      added: { 'k2:current': new Date(switchedAt).toISOString() },
    });
    expect(await r.check({ id: pending.id, code: pending.code })).toMatchObject({ valid: true });
    expect(r.printed.join('\n')).toContain('removed k1');
    // A third run starts the next rotation.
    expect(await r.run()).toBe(0);
    expect(r.parsed().current).toBe('k3');
  });

  it('resumes an interrupted phase 1 without adding another key', async () => {
    const r = await rotation();
    const writes = standIn.writes.length;
    await r.run();
    // Interrupted right after the add: the key is there, not current.
    standIn.secrets.set(r.secretId, standIn.writes[writes] ?? '');
    expect(r.parsed().current).toBe('k1');
    expect(r.keyIds()).toEqual(['k1', 'k2']);
    r.now += HOUR;
    expect(await r.run()).toBe(0);
    expect(r.parsed().current).toBe('k2');
    expect(r.keyIds()).toEqual(['k1', 'k2']);
  });

  it('a ring rotated by hand (old keys, no record of the switch) gets one now, and phase 2 waits from it', async () => {
    const r = await rotation(JSON.stringify({ current: 'k2', k1: 'a'.repeat(43), k2: 'b'.repeat(43) }));
    const recordedAt = r.now;
    expect(await r.run()).toBe(2);
    expect(r.parsed()).toMatchObject({ added: { 'k2:current': new Date(recordedAt).toISOString() } });
    expect(r.printed.join('\n')).toContain('No record of when k2 became current');
    r.now = recordedAt + PHASE_2_WAIT - 1000;
    expect(await r.run()).toBe(2);
    r.now = recordedAt + PHASE_2_WAIT;
    expect(await r.run()).toBe(0);
    expect(r.keyIds()).toEqual(['k2']);
  });

  it('never prints key material', async () => {
    const r = await rotation();
    const printed: string[] = [];
    expect(await r.run()).toBe(0);
    printed.push(...r.printed);
    r.now += PHASE_2_WAIT + HOUR;
    expect(await r.run()).toBe(0);
    printed.push(...r.printed);
    expect(await r.run()).toBe(0);
    printed.push(...r.printed);
    expect(r.materials.size).toBeGreaterThanOrEqual(3);
    const everything = printed.join('\n');
    for (const material of r.materials) expect(everything).not.toContain(material);
  });
});

describe('two writers', () => {
  it('a change made between its read and its write is never overwritten: the run stops, saying why', async () => {
    const r = await rotation();
    const handEdit = JSON.stringify({ current: 'k1', k1: 'm'.repeat(43), k7: 'h'.repeat(43) });
    // Someone edits the secret by hand while the command is between its read and its write.
    r.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutSecretValueCommand' && standIn.secrets.get(r.secretId) !== handEdit)
          standIn.secrets.set(r.secretId, handEdit);
        return next(args);
      },
      { step: 'initialize', name: 'handEditMeanwhile' },
    );
    await expect(r.run()).rejects.toThrow(/changed since this run read it/);
    expect(r.secret()).toBe(handEdit);
  });

  it('two runs at once: one adds its key, the other changes nothing', async () => {
    const r = await rotation();
    const results = await Promise.allSettled([r.run(), r.run()]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(String(refused.reason)).toMatch(/changed since this run read it/);
    // One k2, the winner's: made current once, never written over by the other's own k2.
    expect(r.keyIds()).toEqual(['k1', 'k2']);
    expect(r.parsed().current).toBe('k2');
  });
});

describe('app webhooks across a rotation', () => {
  it('survive both phases: deliveries after phase 2 verify with the standardwebhooks library', async () => {
    const r = await rotation();
    const server = await webhookReceiver(() => ({ status: 204 }));
    const before = await setWebhook(r.h, server.url, ['verification.approved'], API_KEY_ID, r.verify);
    // Between the switch and phase 2, a container that still holds the pre-switch ring seals under k1.
    expect(await r.run()).toBe(0);
    const preSwitch = parseKeyRing(STACK_RING);
    const staleVerify = createVerifyHandler({
      ...r.h.depsFor('verify'),
      secrets: { ...r.secrets, keyRing: async () => preSwitch },
    });
    const late = await setWebhook(r.h, server.url, ['verification.approved'], 'key-late', staleVerify);
    const sealedKey = async (apiKeyId: string) =>
      (await r.h.stores.verify.getWebhook(apiKeyId))?.sealedSecret.split('.')[0];
    expect([await sealedKey(API_KEY_ID), await sealedKey('key-late')]).toEqual(['k1', 'k1']);

    r.now += PHASE_2_WAIT + HOUR;
    expect(await r.run()).toBe(0);
    expect(r.keyIds()).toEqual(['k2']);
    expect(r.printed.join('\n')).toContain('Resealed the webhook secrets of 2 API key(s) under k2');
    expect([await sealedKey(API_KEY_ID), await sealedKey('key-late')]).toEqual(['k2', 'k2']);

    // The functions now hold a ring with k2 alone.
    const { queue, sink } = deliveryPipeline(r.h, { secrets: r.secrets });
    const events = [API_KEY_ID, 'key-late'].map((apiKeyId) =>
      outcomeEvent({ id: `evt_${randomUUID()}`, now: Date.now(), apiKeyId }),
    );
    await sink.publish(events);
    await settled(queue);
    expect(queue.deadLetters).toEqual([]);
    expect(server.requests).toHaveLength(2);
    const secretOf = new Map([
      [events[0]?.id, before],
      [events[1]?.id, late],
    ]);
    for (const request of server.requests as CapturedRequest[]) {
      const headers = request.headers as Record<string, string>;
      const secret = secretOf.get(headers['webhook-id']) ?? '';
      expect(new Webhook(secret).verify(request.body, headers)).toMatchObject({
        type: 'verification.approved',
      });
    }
  });

  it('names, and leaves alone, a secret that opens under no key', async () => {
    const r = await rotation();
    expect(await r.run()).toBe(0);
    // Sealed under a key that is not in the ring (k0, removed by hand long ago).
    const ghost = parseKeyRing(JSON.stringify({ current: 'k0', k0: 'g'.repeat(43) })).current;
    const sealed = sealWebhookSecret(ghost, 'key-ghost', 'whsec_AAAA');
    await r.h.stores.verify.putWebhook('key-ghost', {
      url: 'https://hooks.example.com/x',
      events: ['verification.approved'],
      sealedSecret: sealed,
      updatedAt: Date.now(),
    });
    r.now += PHASE_2_WAIT + HOUR;
    expect(await r.run()).toBe(0);
    expect(r.printed.join('\n')).toMatch(/open under no key.*key-ghost/s);
    expect((await r.h.stores.verify.getWebhook('key-ghost'))?.sealedSecret).toBe(sealed);
  });

  it('never writes over a secret a PUT issued while it was resealing', async () => {
    const r = await rotation();
    await setWebhook(r.h, 'https://hooks.example.com/y', ['call.ended'], 'key-moving', r.verify);
    expect(await r.run()).toBe(0);
    // The app sets its webhook again between the command's scan and its rewrite.
    let fresh = '';
    const inner = r.webhooks;
    r.webhooks = {
      listSealedSecrets: () => inner.listSealedSecrets(),
      replaceSealedSecret: async (apiKeyId, from, to) => {
        fresh = await setWebhook(r.h, 'https://hooks.example.com/z', ['call.ended'], apiKeyId, r.verify);
        return inner.replaceSealedSecret(apiKeyId, from, to);
      },
    };
    r.now += PHASE_2_WAIT + HOUR;
    expect(await r.run()).toBe(0);
    const stored = await r.h.stores.verify.getWebhook('key-moving');
    expect(stored?.url).toBe('https://hooks.example.com/z');
    // The PUT's own secret stands, sealed under the current key.
    const opened = openWebhookSecret(parseKeyRing(r.secret()), 'key-moving', stored?.sealedSecret ?? '');
    expect(opened).toBe(fresh);
  });
});

describe('the command line', () => {
  const command = (args: string[]) =>
    promisify(execFile)(process.execPath, ['ops/rotate-keys.ts', ...args], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: {
        ...process.env,
        ...{ AWS_ENDPOINT_URL: standIn.url, AWS_REGION: 'us-east-1' },
        ...{ AWS_ACCESS_KEY_ID: 'stand-in', AWS_SECRET_ACCESS_KEY: 'stand-in' },
      },
    }).then(
      (out) => ({ code: 0, ...out }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('reads the secret and timings from the stack outputs: phase 2 refused, exit 2', async () => {
    const switched = new Date().toISOString();
    standIn.secrets.set(
      'arn:cli',
      JSON.stringify({
        current: 'k2',
        added: { k2: switched, 'k2:current': switched },
        k1: 'a'.repeat(43),
        k2: 'b'.repeat(43),
      }),
    );
    standIn.stacks.set('VoiceOtpCli', {
      KeyRingSecretArn: 'arn:cli',
      TableName: 'voice-otp-cli',
      CodeTtlSeconds: '300',
      RetentionSeconds: '86400',
    });
    const out = await command(['--stack', 'VoiceOtpCli']);
    expect(out.code).toBe(2);
    expect(out.stdout).toContain('Phase 2 refused');
    expect(out.stdout).not.toContain('a'.repeat(43));
  });

  it('names a stack that does not exist', async () => {
    const out = await command(['--stack', 'Nope']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('Stack Nope was not found');
  });
});
