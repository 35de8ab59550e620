import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Source addresses against a list of CIDRs: Plivo's published ranges (setting webhookAllowedCidrs), which
 * the webhook functions enforce themselves because the HTTP API they sit behind cannot carry AWS WAF.
 */

/** An IPv4 /1–/32 or IPv6 /1–/128 CIDR. */
export function isCidr(value: string): boolean {
  const [address = '', prefix = '', ...rest] = value.split('/');
  const bits = isIPv4(address) ? 32 : isIPv6(address) ? 128 : 0;
  const length = /^[0-9]{1,3}$/.test(prefix) ? Number(prefix) : 0;
  return rest.length === 0 && bits > 0 && length >= 1 && length <= bits;
}

/** Whether an address is inside any of `cidrs` (validated by isCidr); a missing or malformed address is not. */
export function addressMatcher(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix = ''] = cidr.split('/');
    list.addSubnet(address, Number(prefix), isIPv4(address) ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    if (!address) return false;
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    return family !== undefined && list.check(address, family);
  };
}
