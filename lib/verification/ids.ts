import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ID_LENGTH = 26;

/** `vrf_` + 26 Crockford base32 characters: 130 bits from the CSPRNG (256 is a multiple of 32, so no bias). */
export function newVerificationId(): string {
  const bytes = randomBytes(ID_LENGTH);
  let id = 'vrf_';
  for (const byte of bytes) id += CROCKFORD[byte & 31];
  return id;
}

export const VERIFICATION_ID_PATTERN = /^vrf_[0-9A-HJKMNP-TV-Z]{26}$/;

export const isVerificationId = (value: string) => VERIFICATION_ID_PATTERN.test(value);
