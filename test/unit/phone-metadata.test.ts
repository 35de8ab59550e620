import { existsSync, readFileSync } from 'node:fs';
import { type MetadataJson, parsePhoneNumberFromString } from 'libphonenumber-js/core';
import examples from 'libphonenumber-js/examples.mobile.json';
import full from 'libphonenumber-js/metadata.max.json';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_COUNTRIES } from '#platform/config.ts';
import {
  PHONE_METADATA_MODULE,
  phoneMetadataBundling,
  phoneMetadataFor,
} from '../../infra/phone-metadata.ts';
import { bundledCode } from '../../infra/service-function.ts';

const ALLOWED = DEFAULT_ALLOWED_COUNTRIES.split(',');

/** What lib/channels/phone.ts reads from a parse: validity, E.164, country and number type. */
function read(metadata: MetadataJson, e164: string) {
  const parsed = parsePhoneNumberFromString(e164, metadata);
  if (!parsed?.isValid() || parsed.number !== e164) return { valid: false } as const;
  return { valid: true, country: parsed.country ?? '001', type: parsed.getType() } as const;
}

/**
 * Every country's example mobile number, and variants of it with its last 1 to 7 digits replaced (a fixed
 * pseudo-random sequence): valid and invalid numbers, fixed lines and mobiles, in every calling code.
 */
function corpus(): string[] {
  let seed = 16;
  const digit = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return String(seed % 10);
  };
  const numbers: string[] = [];
  for (const [country, national] of Object.entries(examples)) {
    const code = (full.countries as Record<string, readonly unknown[]>)[country]?.[0] as string;
    for (let variant = 0; variant < 60; variant++) {
      const replaced = 1 + (variant % 7);
      const kept = national.slice(0, Math.max(0, national.length - replaced));
      const tail = Array.from({ length: national.length - kept.length }, digit).join('');
      numbers.push(`+${code}${kept}${tail}`);
    }
  }
  return numbers;
}

describe('phone metadata for the allowed countries (infra/phone-metadata.ts)', () => {
  const subset = phoneMetadataFor(ALLOWED) as MetadataJson;
  const numbers = corpus();

  it('is much smaller than the full set', () => {
    expect(JSON.stringify(subset).length).toBeLessThan(JSON.stringify(full).length / 2);
  });

  it('reads every number of an allowed country exactly as the full set does: validity, country, type', () => {
    const differ = numbers.filter((e164) => {
      const whole = read(full, e164);
      const part = read(subset, e164);
      const allowed = (r: typeof whole) => r.valid && ALLOWED.includes(r.country);
      return (allowed(whole) || allowed(part)) && JSON.stringify(whole) !== JSON.stringify(part);
    });
    expect(numbers.filter((e164) => read(full, e164).valid).length).toBeGreaterThan(3000);
    expect(differ).toEqual([]);
  });

  it("places every other country's valid numbers in that country, so they are refused as not allowed", () => {
    const differ = numbers.filter((e164) => {
      const whole = read(full, e164);
      return whole.valid && read(subset, e164).country !== whole.country;
    });
    expect(differ).toEqual([]);
  });

  it('is the full set when every country is allowed', () => {
    expect(phoneMetadataFor(['*'])).toBeUndefined();
    expect(phoneMetadataFor(['US', '*'])).toBeUndefined();
  });

  it("replaces the full set in the stack's bundles with the allowed countries' subset", () => {
    const args = bundledCode('functions/send.ts', ['US', 'GB']).bundling.esbuildArgs;
    const file = args[`--alias:${PHONE_METADATA_MODULE}`] ?? '';
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(phoneMetadataFor(['US', 'GB']));
    expect(bundledCode('functions/send.ts', ['*']).bundling.esbuildArgs).toEqual({});
    expect(phoneMetadataBundling(['*'])).toEqual({});
  });
});
