import { describe, expect, it } from 'vitest';
import { newKeyRingSecret, parseKeyRing } from '#platform/keyring.ts';
import {
  parsePlivoCredentials,
  SECRET_MAX_AGE_SECONDS,
  SECRETS_TIME_BUDGET,
  secretsManagerSecrets,
} from '#platform/secrets.ts';
import { captureServer } from '../support/capture-server.ts';

/** Stands for key material or an auth token: none of it may reach an error message (and so the logs). */
const SECRET = 'Zq7xKv2M9pLw4Rt8Yb3Nc6Hd1Fg5Js0Ue4Wa';

/** Every 6-character run of the secret: a fragment is as bad as the whole. */
const fragments = [...Array(SECRET.length - 5).keys()].map((i) => SECRET.slice(i, i + 6));

function messageOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the secret to be refused');
}

describe('a malformed secret is refused with an error that names it and holds none of its content', () => {
  it.each([
    ['not JSON', `current=k1 k1=${SECRET}`],
    ['cut short', `{"current":"k1","k1":"${SECRET}`],
    ['an array', `["${SECRET}"]`],
    ['a JSON string', `"${SECRET}"`],
    [
      'material pasted as a key id',
      `{"current":"k1","k1":"${'a'.repeat(40)}","${SECRET}":"${'b'.repeat(40)}"}`,
    ],
    ['material as the current key', `{"current":"${SECRET}","k1":"${'a'.repeat(40)}"}`],
    ['material too short', `{"current":"k1","k1":"${SECRET.slice(0, 20)}"}`],
    ['material not a string', `{"current":"k1","k1":[${JSON.stringify(SECRET)}]}`],
    ['no current key', `{"k1":"${SECRET}"}`],
  ])('key ring: %s', (_case, secretString) => {
    const message = messageOf(() => parseKeyRing(secretString));
    expect(message).toMatch(/^Key ring secret/);
    for (const fragment of fragments) expect(message).not.toContain(fragment);
  });

  it.each([
    ['not JSON', `MAXXXXXXXXXXXXXXXXXX:${SECRET}`],
    ['cut short', `{"authId":"MAXXXXXXXXXXXXXXXXXX","authToken":"${SECRET}`],
    ['null', 'null'],
    ['a JSON string', `"${SECRET}"`],
    ['no auth id', `{"authToken":"${SECRET}"}`],
    ['an empty auth token', `{"authId":"${SECRET}","authToken":""}`],
    [
      'a token that is not a string',
      `{"authId":"MAXXXXXXXXXXXXXXXXXX","authToken":[${JSON.stringify(SECRET)}]}`,
    ],
  ])('Plivo credentials: %s', (_case, secretString) => {
    const message = messageOf(() => parsePlivoCredentials(secretString));
    expect(message).toMatch(/^Plivo secret/);
    for (const fragment of fragments) expect(message).not.toContain(fragment);
  });

  it('still reads well-formed secrets', () => {
    expect(parsePlivoCredentials(`{"authId":"MAXXXXXXXXXXXXXXXXXX","authToken":"${SECRET}"}`)).toEqual({
      authId: 'MAXXXXXXXXXXXXXXXXXX',
      authToken: SECRET,
    });
    expect(parseKeyRing(`{"current":"k1","k1":"${SECRET}"}`).current.id).toBe('k1');
  });
});

describe('Secrets Manager within its time budget', () => {
  const client = (endpoint: string) => ({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

  it("reads the key ring through Secrets Manager's API", async () => {
    const secret = newKeyRingSecret('k7');
    const server = await captureServer(() => ({
      status: 200,
      body: JSON.stringify({ ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:ring', SecretString: secret }),
    }));
    try {
      const ring = await secretsManagerSecrets({ keyRing: 'ring' }, client(server.url)).keyRing();
      expect(ring.current.id).toBe('k7');
      expect(server.requests[0]?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    } finally {
      await server.close();
    }
  });

  it('keeps a secret for SECRET_MAX_AGE_SECONDS, then reads it again; a refresh reads it at once', async () => {
    let current = 'k1';
    const server = await captureServer(() => ({
      status: 200,
      body: JSON.stringify({
        ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:ring',
        SecretString: newKeyRingSecret(current),
      }),
    }));
    try {
      const clock = { now: 1_767_225_600_000 };
      const read = secretsManagerSecrets({ keyRing: 'ring' }, client(server.url), () => clock.now);
      expect((await read.keyRing()).current.id).toBe('k1');
      current = 'k2';
      clock.now += SECRET_MAX_AGE_SECONDS * 1000 - 1;
      expect((await read.keyRing()).current.id).toBe('k1');
      expect(server.requests).toHaveLength(1);
      clock.now += 1;
      expect((await read.keyRing()).current.id).toBe('k2');
      expect(server.requests).toHaveLength(2);
      current = 'k3';
      expect((await read.keyRing({ refresh: true })).current.id).toBe('k3');
      expect((await read.keyRing()).current.id).toBe('k3');
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('answers 503 store_unavailable with Retry-After when it does not answer, rather than waiting on', async () => {
    const server = await captureServer(() => 'hang');
    try {
      const reading = secretsManagerSecrets({ keyRing: 'ring' }, client(server.url)).keyRing();
      await expect(reading).rejects.toMatchObject({
        status: 503,
        code: 'store_unavailable',
        headers: { 'Retry-After': '1' },
      });
      expect(server.requests).toHaveLength(SECRETS_TIME_BUDGET.attempts);
    } finally {
      await server.close();
    }
  });

  it('reads both secrets at once on a cold start, so their time budgets do not add up', async () => {
    const secrets = {
      ring: newKeyRingSecret('k3'),
      plivo: JSON.stringify({ authId: 'MAPARALLEL0000000000', authToken: 'token' }),
    };
    const server = await captureServer((request) => {
      const { SecretId } = JSON.parse(request.body) as { SecretId: 'ring' | 'plivo' };
      return {
        status: 200,
        body: JSON.stringify({
          ARN: `arn:aws:secretsmanager:us-east-1:1:secret:${SecretId}`,
          SecretString: secrets[SecretId],
        }),
        delayMs: 200,
      };
    });
    try {
      const read = secretsManagerSecrets({ keyRing: 'ring', plivo: 'plivo' }, client(server.url));
      expect((await read.keyRing()).current.id).toBe('k3');
      // The Plivo secret was asked for with the key ring, before either answered.
      expect(server.requests.map((request) => JSON.parse(request.body).SecretId).sort()).toEqual([
        'plivo',
        'ring',
      ]);
      expect((await read.plivo()).authId).toBe('MAPARALLEL0000000000');
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });
});
