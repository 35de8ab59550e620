import { describe, expect, test } from 'vitest';
import { addressMatcher, isCidr } from '#platform/cidr.ts';
import { loadConfig } from '#platform/config.ts';

describe('isCidr', () => {
  test.each(['203.0.113.0/24', '198.51.100.7/32', '0.0.0.0/1', '2001:db8::/32', '::/1', '2001:db8::1/128'])(
    '%s is a CIDR',
    (value) => expect(isCidr(value)).toBe(true),
  );
  test.each([
    '203.0.113.7',
    '203.0.113.0/33',
    '203.0.113.0/0',
    '2001:db8::/129',
    'plivo.com/24',
    '1.2.3.4/24/1',
    '',
  ])('%s is not', (value) => expect(isCidr(value)).toBe(false));
});

describe('addressMatcher', () => {
  const allowed = addressMatcher(['203.0.113.0/24', '198.51.100.7/32', '2001:db8::/32']);

  test('each range ends where it should', () => {
    expect(allowed('203.0.113.0')).toBe(true);
    expect(allowed('203.0.113.255')).toBe(true);
    expect(allowed('203.0.112.255')).toBe(false);
    expect(allowed('203.0.114.0')).toBe(false);
    expect(allowed('198.51.100.7')).toBe(true);
    expect(allowed('198.51.100.8')).toBe(false);
    expect(allowed('2001:db8:ffff::1')).toBe(true);
    expect(allowed('2001:db9::1')).toBe(false);
  });

  test('an IPv4 address written as IPv6 is the same address', () => {
    expect(allowed('::ffff:203.0.113.9')).toBe(true);
    expect(allowed('::ffff:192.0.2.1')).toBe(false);
  });

  test('a missing or malformed address never matches', () => {
    for (const address of [undefined, '', 'localhost', '203.0.113', '203.0.113.9, 1.1.1.1'])
      expect(allowed(address)).toBe(false);
  });
});

describe('WEBHOOK_ALLOWED_CIDRS', () => {
  const base = { PUBLIC_URL: 'https://x.example' };

  test('comma-separated, spaces allowed, empty by default', () => {
    expect(loadConfig(base).webhookAllowedCidrs).toEqual([]);
    expect(
      loadConfig({ ...base, WEBHOOK_ALLOWED_CIDRS: ' 203.0.113.0/24 ,2001:db8::/32,' }).webhookAllowedCidrs,
    ).toEqual(['203.0.113.0/24', '2001:db8::/32']);
  });

  test('anything but CIDRs fails at cold start, naming the variable', () => {
    expect(() => loadConfig({ ...base, WEBHOOK_ALLOWED_CIDRS: '203.0.113.7' })).toThrow(
      /WEBHOOK_ALLOWED_CIDRS/,
    );
  });
});
