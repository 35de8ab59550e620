import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyRing } from '#platform/keyring.ts';
import type { Secrets } from '#platform/secrets.ts';
import { createSendHandler } from '../../functions/send.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import { rotateKeys } from '../../ops/rotate-keys.ts';
import { type AwsStandIn, awsStandIn, standInClientConfig } from '../support/aws-stand-in.ts';
import { apiEvent, createHarness, type Harness, parse, spokenCode } from '../support/harness.ts';

/**
 * `npm run rotate-keys` against a stand-in for Secrets Manager's API, on real verifications in DynamoDB
 * Local: the functions read the ring the command writes, as a container does after its cache expired.
 */

const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:KeyRing-abc';
const TIMINGS = { codeTtlSeconds: 300, retentionSeconds: 86_400, cacheSeconds: 300 };
const HOUR = 3_600_000;

let standIn: AwsStandIn;
let h: Harness;
let send: ReturnType<typeof createSendHandler>;
let verify: ReturnType<typeof createVerifyHandler>;
/** The rotation's own clock: the command waits by moving it (no real waiting). */
let now = Date.parse('2026-11-30T09:00:00Z');
let printed: string[] = [];
const allPrinted: string[] = [];
const allMaterials = new Set<string>();

const secret = () => standIn.secrets.get(SECRET_ID) ?? '';
const keyIds = () =>
  Object.keys(JSON.parse(secret()) as object).filter((k) => !['current', 'added'].includes(k));
const materials = () => keyIds().map((id) => (JSON.parse(secret()) as Record<string, string>)[id] ?? '');

const run = () => {
  printed = [];
  return rotateKeys({
    secrets: new SecretsManagerClient(standInClientConfig(standIn)),
    secretId: SECRET_ID,
    timings: TIMINGS,
    now: () => now,
    sleep: async (ms) => {
      for (const material of materials()) allMaterials.add(material);
      now += ms;
    },
    print: (line) => {
      printed.push(line);
      allPrinted.push(line);
    },
  });
};

beforeAll(async () => {
  standIn = await awsStandIn();
  // The ring as the stack creates it: one key, no record of when it was added.
  standIn.secrets.set(SECRET_ID, JSON.stringify({ current: 'k1', k1: 'm'.repeat(43) }));
  h = await createHarness();
  const secrets: Secrets = {
    keyRing: async () => parseKeyRing(secret()),
    plivo: async () => ({ authId: 'MATESTAUTHID', authToken: 'test-auth-token' }),
  };
  send = createSendHandler({ ...h.depsFor('send'), secrets, telephony: h.telephony });
  verify = createVerifyHandler({ ...h.depsFor('verify'), secrets });
});
afterAll(() => standIn.close());

async function start(phone: string) {
  const response = await send(apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone } }));
  expect(response.statusCode).toBe(202);
  const call = h.telephony.calls.at(-1);
  if (!call) throw new Error('no call');
  return {
    id: parse(response).id as string,
    code: spokenCode({ keyRingSecret: secret(), clock: h.clock }, call),
  };
}
const checkBy = async (body: Record<string, string>) =>
  parse(await verify(apiEvent({ method: 'POST', resource: '/v1/verifications/check', body })));

describe('npm run rotate-keys', () => {
  it('phase 1 adds a key, waits for the caches, makes it current; codes made before still verify', async () => {
    const before = await start('+14155550160');
    const byPhoneBefore = await start('+14155550161');

    expect(await run()).toBe(0);
    expect(JSON.parse(secret())).toMatchObject({ current: 'k2', added: { k2: '2026-11-30T09:00:00.000Z' } });
    expect(keyIds()).toEqual(['k1', 'k2']);
    // It waited one cache age before switching, saying so.
    expect(now).toBeGreaterThanOrEqual(Date.parse('2026-11-30T09:05:00Z'));
    expect(printed.some((line) => line.startsWith('Waiting'))).toBe(true);
    expect(standIn.writes.map((w) => JSON.parse(w).current)).toEqual(['k1', 'k2']);

    expect(await checkBy({ id: before.id, code: before.code })).toMatchObject({ valid: true });
    expect(await checkBy({ phone: '+14155550161', code: byPhoneBefore.code })).toMatchObject({ valid: true });
    const after = await start('+14155550162');
    expect((await h.scan()).find((item) => item.id === after.id)?.keyId).toBe('k2');
    expect(await checkBy({ phone: '+14155550162', code: after.code })).toMatchObject({ valid: true });
  });

  it('phase 2 refuses before it is safe, saying when, and changes nothing', async () => {
    const writes = standIn.writes.length;
    expect(await run()).toBe(2);
    // Switched at 09:05, plus a cache age, a code's life and the retention period.
    expect(printed.join('\n')).toContain('2026-12-01T09:15:00Z');
    expect(printed.join('\n')).toMatch(/k1/);
    expect(standIn.writes).toHaveLength(writes);
  });

  it('phase 2 removes the old key once safe; codes under the current key still verify; a rerun starts afresh', async () => {
    const pending = await start('+14155550163');
    now = Date.parse('2026-12-01T09:15:00Z') + 1;
    expect(await run()).toBe(0);
    expect(keyIds()).toEqual(['k2']);
    expect(JSON.parse(secret()).current).toBe('k2');
    expect(await checkBy({ id: pending.id, code: pending.code })).toMatchObject({ valid: true });
    expect(printed.join('\n')).toContain('removed k1');
  });

  it('resumes an interrupted phase 1 without adding another key', async () => {
    const writes = standIn.writes.length;
    // Interrupted right after the add: the key is there, not current.
    const interrupted = run();
    await interrupted;
    standIn.secrets.set(SECRET_ID, standIn.writes[writes] ?? '');
    expect(JSON.parse(secret()).current).toBe('k2');
    expect(keyIds()).toEqual(['k2', 'k3']);
    now += HOUR;
    expect(await run()).toBe(0);
    expect(JSON.parse(secret()).current).toBe('k3');
    expect(keyIds()).toEqual(['k2', 'k3']);
  });

  it('never prints key material', () => {
    const everything = allPrinted.join('\n');
    expect(allMaterials.size).toBeGreaterThanOrEqual(3);
    for (const material of [...allMaterials, ...materials()]) expect(everything).not.toContain(material);
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
    standIn.secrets.set(
      'arn:cli',
      JSON.stringify({
        current: 'k2',
        added: { k2: new Date().toISOString() },
        k1: 'a'.repeat(43),
        k2: 'b'.repeat(43),
      }),
    );
    standIn.stacks.set('VoiceOtpCli', {
      KeyRingSecretArn: 'arn:cli',
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
