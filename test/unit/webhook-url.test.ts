import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, isPublicAddress, NOT_PUBLIC_RANGES } from '#events/webhook-url.ts';

/** The address rules at their edges: a range one bit too wide would refuse real hosts, one too narrow would let a private one through. */
describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['9.255.255.255'],
    ['11.0.0.0'],
    ['100.63.255.255'],
    ['100.128.0.0'],
    ['126.255.255.255'],
    ['128.0.0.0'],
    ['169.253.255.255'],
    ['169.255.0.0'],
    ['172.15.255.255'],
    ['172.32.0.0'],
    ['192.167.255.255'],
    ['192.169.0.0'],
    ['198.17.255.255'],
    ['198.20.0.0'],
    ['223.255.255.255'],
    ['2606:4700:4700::1111'],
    ['2a00:1450:4001:81c::200e'],
    ['2001:4860:4860::8888'],
  ])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    ['0.0.0.0'],
    ['10.0.0.0'],
    ['10.255.255.255'],
    ['100.64.0.0'],
    ['100.127.255.255'],
    ['127.0.0.1'],
    ['127.255.255.254'],
    ['169.254.169.254'],
    ['172.16.0.0'],
    ['172.31.255.255'],
    ['192.168.0.1'],
    ['198.18.0.1'],
    ['198.19.255.255'],
    ['224.0.0.1'],
    ['239.255.255.255'],
    ['240.0.0.1'],
    ['255.255.255.255'],
    ['::'],
    ['::1'],
    ['::127.0.0.1'],
    ['::ffff:127.0.0.1'],
    ['::ffff:8.8.8.8'],
    ['64:ff9b::a00:1'],
    ['2002:a00:1::'],
    ['2001:0:4136:e378::1'],
    ['2001:db8::1'],
    ['fc00::1'],
    ['fd00:ec2::254'],
    ['fe80::1'],
    ['fec0::1'],
    ['ff02::1'],
    ['not an address'],
    [''],
  ])('%s is not', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

/** One case per rule: an address inside that range and no other, so removing the rule turns its case red. */
const ONE_CASE_PER_RULE: Record<'ipv4' | 'ipv6', Record<string, string>> = {
  ipv4: {
    '0.0.0.0/8': '0.1.2.3',
    '10.0.0.0/8': '10.1.2.3',
    '100.64.0.0/10': '100.100.0.1',
    '127.0.0.0/8': '127.0.0.1',
    '169.254.0.0/16': '169.254.169.254',
    '172.16.0.0/12': '172.20.0.1',
    '192.0.0.0/24': '192.0.0.170',
    '192.0.2.0/24': '192.0.2.1',
    '192.88.99.0/24': '192.88.99.1',
    '192.168.0.0/16': '192.168.1.1',
    '198.18.0.0/15': '198.19.0.1',
    '198.51.100.0/24': '198.51.100.7',
    '203.0.113.0/24': '203.0.113.9',
    '224.0.0.0/4': '239.1.2.3',
    '240.0.0.0/4': '255.255.255.255',
  },
  ipv6: {
    '::/96': '::127.0.0.1',
    '::ffff:0:0/96': '::ffff:10.0.0.1',
    '::ffff:0:0:0/96': '::ffff:0:127.0.0.1',
    '64:ff9b::/96': '64:ff9b::a9fe:a9fe',
    '64:ff9b:1::/48': '64:ff9b:1::a00:1',
    '100::/64': '100::1',
    '2001::/23': '2001:2::1',
    '2001:db8::/32': '2001:db8::1',
    '2002::/16': '2002:a00:1::',
    '3fff::/20': '3fff::1',
    '5f00::/16': '5f00::1',
    'fc00::/7': 'fd00:ec2::254',
    'fe80::/10': 'fe80::1',
    'fec0::/10': 'fec0::1',
    'ff00::/8': 'ff02::1',
  },
};

const cases = (['ipv4', 'ipv6'] as const).flatMap((family) =>
  Object.entries(ONE_CASE_PER_RULE[family]).map(([range, address]) => ({ family, range, address })),
);

describe('one case per blocked range', () => {
  const ruleOf = (family: 'ipv4' | 'ipv6') =>
    NOT_PUBLIC_RANGES[family].map(([network, prefix]) => `${network}/${prefix}`);

  it('every rule has a case here, and every case a rule', () => {
    for (const family of ['ipv4', 'ipv6'] as const)
      expect(ruleOf(family).sort()).toEqual(Object.keys(ONE_CASE_PER_RULE[family]).sort());
  });

  it.each(cases)('$address ($range) is refused, and by that rule alone', ({ family, range, address }) => {
    expect(isPublicAddress(address)).toBe(false);
    // Without this range's rule the address would pass: the case proves this rule, not a wider one.
    const others = new BlockList();
    for (const [network, prefix] of NOT_PUBLIC_RANGES[family])
      if (`${network}/${prefix}` !== range) others.addSubnet(network, prefix, family);
    expect(others.check(address, family)).toBe(false);
  });

  it('refuses a webhook URL in the RFC 2765 IPv4-translated form', () => {
    expect(() => checkWebhookUrl('https://[::ffff:0:127.0.0.1]/hook', false)).toThrow(/public host/);
    expect(() => checkWebhookUrl('https://[::ffff:0:a9fe:a9fe]/hook', false)).toThrow(/public host/);
  });
});

describe('checkWebhookUrl', () => {
  it('keeps a public https URL as the parser normalises it', () => {
    expect(checkWebhookUrl('https://Hooks.Example.COM:8443/a?b=c', false).href).toBe(
      'https://hooks.example.com:8443/a?b=c',
    );
  });

  it('keeps a public IPv6 literal, brackets and all', () => {
    expect(checkWebhookUrl('https://[2606:4700:4700::1111]:8443/hook', false).href).toBe(
      'https://[2606:4700:4700::1111]:8443/hook',
    );
  });

  it('takes a URL of 2,048 characters, not one more', () => {
    const base = 'https://hooks.example.com/';
    const at = (length: number) => `${base}${'a'.repeat(length - base.length)}`;
    expect(checkWebhookUrl(at(2048), false).href).toHaveLength(2048);
    expect(() => checkWebhookUrl(at(2049), false)).toThrow(/longer than 2048 characters/);
  });

  it('refuses names that never resolve on the internet: single labels and internal suffixes, bare or not', () => {
    // A trailing dot (a fully qualified name) hides no suffix.
    for (const host of [
      'printer',
      'home.arpa',
      'corp.home.arpa',
      'internal',
      'svc.internal',
      'localhost.',
      'svc.internal.',
      'printer.local.',
    ])
      expect(() => checkWebhookUrl(`https://${host}/hook`, false), host).toThrow(/must name a public host/);
    expect(checkWebhookUrl('https://homearpa.example/hook', false).hostname).toBe('homearpa.example');
  });

  it('lets the local hosts through only with the local stack setting', () => {
    expect(() => checkWebhookUrl('ftp://127.0.0.1:3001/h', true)).toThrow(/must use https/);
    expect(() => checkWebhookUrl('http://127.0.0.1:3001/h', false)).toThrow(/https/);
    expect(checkWebhookUrl('http://127.0.0.1:3001/h', true).host).toBe('127.0.0.1:3001');
    expect(checkWebhookUrl('http://localhost:3001/h', true).host).toBe('localhost:3001');
    expect(() => checkWebhookUrl('http://10.1.2.3/h', true)).toThrow();
  });
});
