import { BlockList, isIP } from 'node:net';
import { ApiError } from '#platform/errors.ts';

/**
 * Which URLs an app's webhook may point at, so the service cannot be made to send requests into its own
 * network (SSRF): https only, no credentials, a public host. The URL is checked when it is set, and each
 * delivery checks the addresses its host resolves to right then and connects to the one it checked
 * (lib/events/webhook-delivery.ts), so a name rebound to a private address later is refused too.
 */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** What the local stack alone allows (setting WEBHOOK_ALLOW_LOCALHOST): a receiver on this machine. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);

const invalidUrl = (why: string) => new ApiError(400, 'invalid_webhook_url', `url ${why}.`);

/** Names that resolve inside a network, never on the internet (RFC 6761, 6762, 8375 and cloud metadata). */
const INTERNAL_SUFFIXES = ['localhost', 'local', 'internal', 'localdomain', 'home.arpa', 'lan', 'intranet'];

/**
 * Every address that is not the public internet, one rule per IANA special-purpose range (RFC 6890 and its
 * updates) that is not globally reachable: this network, private, shared (CGNAT), loopback, link-local (cloud
 * metadata at 169.254.169.254), IETF protocol assignments, documentation, the 6to4 relay anycast,
 * benchmarking, multicast, reserved; on IPv6 also unique-local (AWS's metadata at fd00:ec2::254), link- and
 * site-local, multicast, discard-only, documentation (old and RFC 9637's), SRv6 SIDs, and every form that
 * embeds an IPv4 address (compatible, mapped, RFC 2765's translated, NAT64, local-use NAT64, 6to4, Teredo),
 * whose IPv4 part could be any of the above. Exported so the tests can hold one case per rule.
 */
export const NOT_PUBLIC_RANGES = {
  ipv4: [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ],
  ipv6: [
    ['::', 96],
    ['::ffff:0:0', 96],
    // RFC 2765's IPv4-translated form, ::ffff:0:a.b.c.d.
    ['::ffff:0:0:0', 96],
    ['64:ff9b::', 96],
    ['64:ff9b:1::', 48],
    ['100::', 64],
    ['2001::', 23],
    ['2001:db8::', 32],
    ['2002::', 16],
    ['3fff::', 20],
    ['5f00::', 16],
    ['fc00::', 7],
    ['fe80::', 10],
    ['fec0::', 10],
    ['ff00::', 8],
  ],
} as const satisfies Record<'ipv4' | 'ipv6', ReadonlyArray<readonly [string, number]>>;

// Two lists: a BlockList checks an IPv4 address against IPv6 rules too (as ::ffff:a.b.c.d), so the
// IPv4-mapped rule would otherwise refuse every IPv4 address.
const NOT_PUBLIC_V4 = new BlockList();
const NOT_PUBLIC_V6 = new BlockList();
for (const [network, prefix] of NOT_PUBLIC_RANGES.ipv4) NOT_PUBLIC_V4.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of NOT_PUBLIC_RANGES.ipv6) NOT_PUBLIC_V6.addSubnet(network, prefix, 'ipv6');

/** True for an address on the public internet; false for anything else, or for what is not an address. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return family === 4 ? !NOT_PUBLIC_V4.check(address, 'ipv4') : !NOT_PUBLIC_V6.check(address, 'ipv6');
}

/** The host without IPv6 brackets or a final root dot, lower-cased (the URL parser already lower-cased it). */
export const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');

/** Whether a delivery to this URL may reach a loopback address: the local stack's receivers only. */
export const isLocalReceiver = (url: URL, allowLocalhost: boolean) =>
  allowLocalhost && LOCAL_HOSTS.has(bareHost(url));

/**
 * Checks a webhook URL as given in a PUT: 400 invalid_webhook_url for anything the rules refuse. The URL
 * parser has already turned decimal, octal and hex IPv4 forms (2130706433, 0177.0.0.1, 0x7f.1) into dotted
 * ones, so they meet the same address rules.
 */
export function checkWebhookUrl(raw: string, allowLocalhost: boolean): URL {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH)
    throw invalidUrl(`is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidUrl('is not an absolute URL');
  }
  if (url.username || url.password) throw invalidUrl('must not carry credentials');
  const local = isLocalReceiver(url, allowLocalhost);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) throw invalidUrl('must use https');
  if (local) return url;
  const host = bareHost(url);
  if (isIP(host) !== 0) {
    if (!isPublicAddress(host))
      throw invalidUrl('must name a public host, not a private or reserved address');
    return url;
  }
  // A single label (intranet names) or an internal suffix never resolves on the public internet.
  if (
    !host.includes('.') ||
    INTERNAL_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))
  )
    throw invalidUrl('must name a public host');
  return url;
}
