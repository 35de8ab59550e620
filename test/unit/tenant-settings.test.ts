import { describe, expect, it } from 'vitest';
import { loadConfig, parseTenantSettings, TENANT_SETTINGS, tenantLimits } from '#platform/config.ts';
import { tenantKeyValue, tenantOfKey } from '#platform/http.ts';
import { usageDays } from '#verification/tenants.ts';

const stack = loadConfig({ PUBLIC_URL: 'https://otp.example.test' });
const limits = tenantLimits(stack);

/** The message lib/platform/config.ts gives the stack's variable for the same value. */
function stackMessage(variable: string, value: string): string {
  try {
    loadConfig({ PUBLIC_URL: 'https://otp.example.test', [variable]: value });
  } catch (error) {
    return (error as Error).message.replace(/^Invalid configuration: [A-Z_0-9]+: /, '');
  }
  throw new Error(`${variable}=${value} was taken`);
}

describe('tenant settings', () => {
  it('are read from text, as typed on the command line, by the stack’s own rules', () => {
    expect(
      parseTenantSettings(
        {
          appName: 'Acme Shop',
          codeLength: '8',
          codeTtlSeconds: '120',
          defaultLocale: 'es-ES',
          channels: 'sms, voice',
          fallback: 'false',
          maxPerDay: '40',
        },
        limits,
      ),
    ).toEqual({
      set: {
        appName: 'Acme Shop',
        codeLength: 8,
        codeTtlSeconds: 120,
        defaultLocale: 'es-ES',
        channels: ['sms', 'voice'],
        fallback: false,
        maxPerDay: 40,
      },
      unset: [],
    });
  });

  it('an empty value unsets a setting (back to the stack’s)', () => {
    expect(parseTenantSettings({ appName: '', codeLength: ' ' }, limits)).toEqual({
      set: {},
      unset: ['appName', 'codeLength'],
    });
  });

  it.each([
    ['codeLength', '11'],
    ['codeLength', '3'],
    ['codeLength', 'six'],
    ['codeTtlSeconds', '59'],
    ['appName', 'Acme <script>'],
    ['appName', 'x'.repeat(61)],
    ['defaultLocale', 'xx-XX'],
    ['fallback', 'maybe'],
    ['maxPerDay', '0'],
  ])('refuses %s=%j with the message the stack’s variable gets, naming the flag', (setting, value) => {
    const { flag, variable } = TENANT_SETTINGS[setting as keyof typeof TENANT_SETTINGS];
    const expected = stackMessage(variable, value);
    expect(() => parseTenantSettings({ [setting]: value }, limits)).toThrow(
      expect.objectContaining({
        status: 400,
        code: 'invalid_request',
        message: expect.stringContaining(`${setting} (${flag}): ${expected}`),
      }),
    );
  });

  it('refuses channels that are not the stack’s, empty or repeated, and unknown settings', () => {
    const narrow = { ...limits, channels: ['voice' as const] };
    for (const [input, message] of [
      [{ channels: 'sms' }, /the stack allows only voice/],
      [{ channels: 'voice,voice' }, /each channel once/],
      [{ channels: 'fax' }, /must be among voice, sms/],
      [{ channels: ',' }, /at least one channel/],
      [{ colour: 'red' }, /colour: not a tenant setting/],
      [{ toString: 'x' }, /toString: not a tenant setting/],
      [{ appName: { nested: true } }, /must be text/],
    ] as const) {
      expect(() => parseTenantSettings(input, narrow)).toThrow(message);
    }
  });

  it('may narrow the stack’s limits, never pass them: day cap and code lifetime at most the stack’s', () => {
    expect(parseTenantSettings({ maxPerDay: String(limits.apiKeyMaxPerDay) }, limits).set.maxPerDay).toBe(
      limits.apiKeyMaxPerDay,
    );
    expect(() => parseTenantSettings({ maxPerDay: String(limits.apiKeyMaxPerDay + 1) }, limits)).toThrow(
      /maxPerDay \(--max-per-day\): at most the stack's API_KEY_MAX_PER_DAY, 5000/,
    );
    expect(() => parseTenantSettings({ codeTtlSeconds: '301' }, limits)).toThrow(
      /codeTtlSeconds \(--code-ttl-seconds\): at most the stack's CODE_TTL_SECONDS, 300/,
    );
  });

  it('names every bad setting at once', () => {
    expect(() => parseTenantSettings({ codeLength: '2', fallback: 'no' }, limits)).toThrow(
      /codeLength .*; fallback /,
    );
  });
});

describe("the stack's channels", () => {
  it('CHANNELS lists what sends may use, and must hold DEFAULT_CHANNEL', () => {
    expect(stack.channels).toEqual(['voice', 'sms']);
    const env = { PUBLIC_URL: 'https://otp.example.test' };
    expect(loadConfig({ ...env, CHANNELS: 'sms', DEFAULT_CHANNEL: 'sms' }).channels).toEqual(['sms']);
    expect(() => loadConfig({ ...env, CHANNELS: 'sms' })).toThrow(/DEFAULT_CHANNEL: must be one of CHANNELS/);
    expect(() => loadConfig({ ...env, CHANNELS: 'fax' })).toThrow(/CHANNELS/);
  });
});

describe('API keys and their tenant', () => {
  const random = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0';

  it('a key the tenant was created with is its own tenant; a rotated key names its tenant in its value', () => {
    expect(tenantOfKey({ id: 'abc123defg', value: 'x'.repeat(40) })).toBe('abc123defg');
    expect(tenantOfKey({ id: 'abc123defg', value: null })).toBe('abc123defg');
    const value = tenantKeyValue('k9x8w7v6u5', random);
    expect(value).toMatch(/^[A-Za-z0-9]{20,128}$/);
    expect(tenantOfKey({ id: 'newkeyid00', value })).toBe('k9x8w7v6u5');
    expect(tenantOfKey({ id: 'newkeyid00', value: tenantKeyValue('local', random) })).toBe('local');
  });

  it('a value API Gateway generates (40 letters and digits) never names another tenant', () => {
    // Shaped like a minted value but 40 characters in all: not one.
    expect(tenantOfKey({ id: 'abc123defg', value: `Tk9x8w7v6u5K${random.slice(12)}` })).toBe('abc123defg');
    expect(() => tenantKeyValue('Upper', random)).toThrow();
    expect(() => tenantKeyValue('ok', 'short')).toThrow();
  });
});

describe('usage days', () => {
  const now = Date.parse('2026-11-30T15:00:00Z');

  it('today by default; to alone; from alone until today; both included', () => {
    expect(usageDays({}, now)).toEqual(['2026-11-30']);
    expect(usageDays({ to: '2026-11-02' }, now)).toEqual(['2026-11-02']);
    expect(usageDays({ from: '2026-11-28' }, now)).toEqual(['2026-11-28', '2026-11-29', '2026-11-30']);
    expect(usageDays({ from: '2026-02-27', to: '2026-03-01' }, now)).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
    ]);
    expect(usageDays({ from: '2026-09-02', to: '2026-11-30' }, now)).toHaveLength(90);
  });

  it.each([
    [{ from: '2026-09-01', to: '2026-11-30' }, /at most 90 days; this one covers 91/],
    [{ from: '2026-11-30', to: '2026-11-29' }, /from must not be after to/],
    [{ from: '2026-12-01' }, /after today/],
    [{ from: '2026-02-30' }, /from must be a date/],
    [{ to: '2026-1-01' }, /to must be a date/],
    [{ to: '20261101' }, /to must be a date/],
    [{ from: '2026-11-30T00:00:00Z' }, /from must be a date/],
  ])('refuses %j', (query, message) => {
    expect(() => usageDays(query, now)).toThrow(
      expect.objectContaining({
        status: 400,
        code: 'invalid_request',
        message: expect.stringMatching(message),
      }),
    );
  });
});
