import { describe, expect, it } from 'vitest';
import { maskPhone, parsePhone } from '#channels/phone.ts';
import { loadConfig } from '#platform/config.ts';
import { findDuplicateKey } from '#platform/json.ts';
import { resolveLocale } from '#platform/locales.ts';

describe('findDuplicateKey', () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['[{"a":1},{"a":2}]', undefined],
    ['{"a":"a","b":["a","a"]}', undefined],
    ['{"a\\"":1,"a\\u0022":2}', 'a"'],
    ['{"x":{"a":1},"a":2}', undefined],
    ['{"x":[1,{"y":2}],"y":3}', undefined],
    ['"a"', undefined],
  ])('%s → %s', (text, expected) => {
    JSON.parse(text);
    expect(findDuplicateKey(text)).toBe(expected);
  });
});

describe('phone', () => {
  it('parses E.164 and masks all but the calling code and two last digits', () => {
    const phone = parsePhone('+14155550123');
    expect(phone).toEqual({
      e164: '+14155550123',
      country: 'US',
      callingCode: '1',
      type: 'FIXED_LINE_OR_MOBILE',
    });
    expect(maskPhone(phone)).toBe('+1********23');
    expect(maskPhone(parsePhone('+33612345678'))).toBe('+33*******78');
  });

  it.each(['14155550123', '+1 415 555 0123', '+447700900123', '+1415555012345678', '+０１２', ''])(
    'refuses %j',
    (input) => {
      expect(() => parsePhone(input)).toThrow(expect.objectContaining({ code: 'invalid_phone' }));
    },
  );
});

describe('config', () => {
  it('has defaults for every knob', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://x.example/prod/' });
    expect(config).toMatchObject({
      publicUrl: 'https://x.example/prod',
      codeLength: 6,
      codeTtlSeconds: 300,
      maxAttempts: 5,
      retentionSeconds: 86_400,
      defaultLocale: 'en-US',
    });
  });

  it('fails at cold start naming each bad variable', () => {
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://x', CODE_LENGTH: '12', REQUIRE_KEYPRESS: 'yes' })).toThrow(
      /PUBLIC_URL.*CODE_LENGTH.*REQUIRE_KEYPRESS/,
    );
  });
});

describe('COUNTER_SHARDS', () => {
  const base = { PUBLIC_URL: 'https://x.example/prod' };

  it('defaults to one item per counter and takes 1 to 100 (one BatchGetItem reads the others)', () => {
    expect(loadConfig(base).abuse.counterShards).toBe(1);
    expect(loadConfig({ ...base, COUNTER_SHARDS: '100' }).abuse.counterShards).toBe(100);
    for (const shards of ['0', '101', '2.5', 'many'])
      expect(() => loadConfig({ ...base, COUNTER_SHARDS: shards }), shards).toThrow(/COUNTER_SHARDS/);
  });
});

describe('SMS settings', () => {
  const base = { PUBLIC_URL: 'https://x.example/prod' };

  it('default to voice, fallback on, a daily SMS cap of 5,000 and no WebOTP line', () => {
    const config = loadConfig(base);
    expect([config.defaultChannel, config.fallback, config.abuse.dailySmsCap]).toEqual(['voice', true, 5000]);
    expect(config.sms.webOtpDomain).toBeUndefined();
    expect(loadConfig({ ...base, SMS_WEBOTP_DOMAIN: '' }).sms.webOtpDomain).toBeUndefined();
  });

  it('take a WebOTP host name and refuse anything else at cold start', () => {
    for (const domain of ['example.com', 'login.example.co.uk', 'xn--bcher-kva.example', 'localhost'])
      expect(loadConfig({ ...base, SMS_WEBOTP_DOMAIN: domain }).sms.webOtpDomain).toBe(domain);
    for (const domain of [
      'https://example.com',
      'example.com/login',
      'example.com:443',
      'Example.com',
      'exa mple.com',
      '-example.com',
      'example.com.',
      '@example.com',
      `${'a'.repeat(64)}.com`,
      'example.com #123456',
    ]) {
      expect(() => loadConfig({ ...base, SMS_WEBOTP_DOMAIN: domain }), domain).toThrow(/SMS_WEBOTP_DOMAIN/);
    }
  });

  it('refuse an unknown DEFAULT_CHANNEL, FALLBACK or DAILY_SMS_CAP', () => {
    expect(() => loadConfig({ ...base, DEFAULT_CHANNEL: 'email' })).toThrow(/DEFAULT_CHANNEL/);
    expect(() => loadConfig({ ...base, FALLBACK: 'yes' })).toThrow(/FALLBACK/);
    expect(() => loadConfig({ ...base, DAILY_SMS_CAP: '0' })).toThrow(/DAILY_SMS_CAP/);
    expect(loadConfig({ ...base, DEFAULT_CHANNEL: 'sms', FALLBACK: 'false' })).toMatchObject({
      defaultChannel: 'sms',
      fallback: false,
    });
  });
});

describe('DynamoDB credentials', () => {
  const base = { PUBLIC_URL: 'https://x.example/prod', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' };
  const key = { AWS_ACCESS_KEY_ID: 'LOCALABC123', AWS_SECRET_ACCESS_KEY: 'secret' };

  it('with an endpoint, come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when both are set', () => {
    expect(loadConfig({ ...base, ...key }).dynamodbCredentials).toEqual({
      accessKeyId: 'LOCALABC123',
      secretAccessKey: 'secret',
    });
    expect(loadConfig(base).dynamodbCredentials).toBeUndefined();
    expect(() => loadConfig({ ...base, AWS_ACCESS_KEY_ID: 'LOCALABC123' })).toThrow(
      /set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither/,
    );
  });

  it("on AWS (no endpoint) are left to the SDK's default chain", () => {
    const { DYNAMODB_ENDPOINT: _, ...aws } = base;
    expect(loadConfig({ ...aws, ...key, AWS_SESSION_TOKEN: 'token' }).dynamodbCredentials).toBeUndefined();
    expect(loadConfig({ ...aws, AWS_ACCESS_KEY_ID: 'ASIA' }).dynamodbCredentials).toBeUndefined();
  });
});

describe('locales', () => {
  it('resolve case-insensitively and refuse others', () => {
    expect(resolveLocale('pt-br')).toBe('pt-BR');
    expect(() => resolveLocale('pt-PT')).toThrow(expect.objectContaining({ code: 'unsupported_locale' }));
  });
});
