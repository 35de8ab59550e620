import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import max from 'libphonenumber-js/metadata.max.json';
import min from 'libphonenumber-js/metadata.min.json';

type Metadata = typeof max;
type Entry = readonly unknown[];

/** Where a country's formatting rules sit in libphonenumber-js's compressed entry (metadata version 4). */
const FORMATS = 4;

/**
 * The phone-number metadata the send function ships, made at build time from the stack's ALLOWED_COUNTRIES:
 * - each allowed country keeps its full ("max") entry, formats aside, so validity, country and number type (the send path
 *   refuses types) are exactly what the whole set gives (test/unit/phone-metadata.test.ts compares them);
 * - every other country keeps libphonenumber-js's own "min" entry (general pattern, lengths, leading digits,
 *   and type patterns only where they tell apart countries sharing a calling code), so its numbers are still
 *   recognised as its own and refused as `country_not_allowed`, never placed in an allowed country;
 * - formatting rules are dropped everywhere: parsing to E.164 never reads them (about 11 KB for the default
 *   list).
 * `*` (every country allowed) returns undefined: the bundle keeps the full set.
 *
 * One difference from the full set, for non-allowed countries only: a number that fits its country's
 * general pattern but none of its types is refused as `country_not_allowed` instead of `invalid_phone`.
 */
export function phoneMetadataFor(allowedCountries: readonly string[]): Metadata | undefined {
  if (allowedCountries.includes('*')) return undefined;
  const allowed = new Set(allowedCountries);
  const trimmed = (entry: Entry) => entry.map((value, index) => (index === FORMATS ? 0 : value));
  const minCountries = min.countries as Record<string, Entry>;
  return {
    ...max,
    countries: Object.fromEntries(
      Object.entries(max.countries).map(([country, entry]) => [
        country,
        trimmed(allowed.has(country) ? entry : (minCountries[country] ?? entry)),
      ]),
    ) as Metadata['countries'],
    nonGeographic: Object.fromEntries(
      Object.entries(min.nonGeographic).map(([code, entry]) => [code, trimmed(entry as Entry)]),
    ) as Metadata['nonGeographic'],
  };
}

/** The module every bundle imports the metadata from (lib/channels/phone.ts); the build points it at the subset. */
export const PHONE_METADATA_MODULE = 'libphonenumber-js/metadata.max.json';

/**
 * esbuild arguments that replace the full metadata with the allowed countries' subset, written to a file
 * named by its content; none when every country is allowed.
 */
export function phoneMetadataBundling(allowedCountries: readonly string[]): Record<string, string> {
  const metadata = phoneMetadataFor(allowedCountries);
  if (!metadata) return {};
  const json = JSON.stringify(metadata);
  const dir = join(tmpdir(), 'voice-otp-phone-metadata');
  const file = join(dir, `${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, json);
  return { [`--alias:${PHONE_METADATA_MODULE}`]: file };
}
