import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, isPublicAddress } from '#events/webhook-url.ts';

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

describe('checkWebhookUrl', () => {
  it('keeps a public https URL as the parser normalises it', () => {
    expect(checkWebhookUrl('https://Hooks.Example.COM:8443/a?b=c', false).href).toBe(
      'https://hooks.example.com:8443/a?b=c',
    );
  });

  it('lets the local hosts through only with the local stack setting', () => {
    expect(() => checkWebhookUrl('http://127.0.0.1:3001/h', false)).toThrow(/https/);
    expect(checkWebhookUrl('http://127.0.0.1:3001/h', true).host).toBe('127.0.0.1:3001');
    expect(checkWebhookUrl('http://localhost:3001/h', true).host).toBe('localhost:3001');
    expect(() => checkWebhookUrl('http://10.1.2.3/h', true)).toThrow();
  });
});
