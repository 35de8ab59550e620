import { describe, expect, it } from 'vitest';
import { countSegments } from '#channels/sms-segments.ts';
import { smsText } from '#channels/sms-text.ts';
import { LOCALES, type Locale } from '#platform/locales.ts';

const UCS2_LOCALES: Locale[] = ['hi-IN', 'ja-JP'];
/** The longest APP_NAME lib/platform/config.ts allows, in GSM-7 letters, and the longest code and lifetime. */
const WORST = { appName: 'W'.repeat(60), code: '0123456789', codeTtlSeconds: 3600 };
const DEFAULTS = { appName: 'Voice OTP', code: '482017', codeTtlSeconds: 300 };

describe('segment counter', () => {
  it('counts GSM-7 septets, two for the extension table, 160 in one segment and 153 per part', () => {
    expect(countSegments('')).toEqual({ encoding: 'GSM-7', units: 0, segments: 0 });
    expect(countSegments('Ünïcode? no: Ñ, ß, é, @, £, ¿')).toMatchObject({ encoding: 'UCS-2' });
    expect(countSegments('Ñ, ß, é, @, £, ¿, Δ, Ω, \n')).toEqual({
      encoding: 'GSM-7',
      units: 25,
      segments: 1,
    });
    expect(countSegments('€[]{}~^|\\')).toEqual({ encoding: 'GSM-7', units: 18, segments: 1 });
    expect(countSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(countSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(countSegments('a'.repeat(306))).toMatchObject({ segments: 2 });
    expect(countSegments('a'.repeat(307))).toMatchObject({ segments: 3 });
    expect(countSegments(`${'a'.repeat(159)}€`)).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    // An escaped character is never split: 152 septets then € (2) does not fit the first part's 153.
    expect(countSegments(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toMatchObject({ units: 306, segments: 3 });
  });

  it('counts UTF-16 units otherwise, 70 in one segment and 67 per part, a surrogate pair as two', () => {
    expect(countSegments('á'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(countSegments('á'.repeat(71))).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(countSegments('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    // 66 units, then a pair that would straddle the 67-unit boundary, goes whole to the next part.
    expect(countSegments(`${'á'.repeat(66)}😀${'á'.repeat(66)}`)).toMatchObject({ units: 134, segments: 3 });
    expect(countSegments(`${'á'.repeat(67)}😀${'á'.repeat(65)}`)).toMatchObject({ units: 134, segments: 2 });
  });
});

describe('SMS text', () => {
  it.each(LOCALES)(
    '%s: holds the code and the minutes, one segment wherever its alphabet allows',
    (locale) => {
      const text = smsText({ locale, ...DEFAULTS });
      expect(text).toContain('482017');
      expect(text).toContain('5');
      expect(text).not.toMatch(/\{|\}/);
      const usual = countSegments(text);
      const worst = countSegments(smsText({ locale, ...WORST }));
      expect(usual.segments).toBe(1);
      if (UCS2_LOCALES.includes(locale)) {
        // Devanagari and Japanese need UCS-2 (70 units): one segment with a usual name, two with 60 letters.
        expect([usual.encoding, worst.encoding]).toEqual(['UCS-2', 'UCS-2']);
        expect(worst.segments).toBe(2);
      } else {
        // Latin languages are written in GSM-7 alone: the longest name and code still fit 160 septets.
        expect([usual.encoding, worst.encoding]).toEqual(['GSM-7', 'GSM-7']);
        expect(worst.segments).toBe(1);
        // With an appHash too (Google's 140 bytes are one GSM-7 segment).
        expect(countSegments(smsText({ locale, ...WORST, appHash: 'FA+9qCX9VSu' })).segments).toBe(1);
      }
    },
  );

  it('differs per locale and says the minutes by the plural rule', () => {
    expect(new Set(LOCALES.map((locale) => smsText({ locale, ...DEFAULTS }))).size).toBe(LOCALES.length - 1);
    expect(smsText({ locale: 'en-US', ...DEFAULTS, codeTtlSeconds: 60 })).toContain('expires in 1 minute.');
    expect(smsText({ locale: 'en-US', ...DEFAULTS, codeTtlSeconds: 119 })).toContain('expires in 1 minute.');
    expect(smsText({ locale: 'it-IT', ...DEFAULTS, codeTtlSeconds: 120 })).toContain('Scade tra 2 minuti.');
    expect(smsText({ locale: 'de-DE', ...DEFAULTS, codeTtlSeconds: 60 })).toContain(
      'Er ist 1 Minute gültig.',
    );
  });

  it('ends with the SMS Retriever hash, then the WebOTP line last', () => {
    expect(smsText({ locale: 'en-US', ...DEFAULTS, appName: 'Acme', webOtpDomain: 'example.com' })).toBe(
      'Your Acme code is 482017. It expires in 5 minutes. Do not share it.\n@example.com #482017',
    );
    expect(
      smsText({
        locale: 'en-US',
        ...DEFAULTS,
        appName: 'Acme',
        appHash: 'FA+9qCX9VSu',
        webOtpDomain: 'example.com',
      }).split('\n'),
    ).toEqual([
      'Your Acme code is 482017. It expires in 5 minutes. Do not share it.',
      'FA+9qCX9VSu',
      '@example.com #482017',
    ]);
  });

  it('keeps an app name that looks like a placeholder as text', () => {
    expect(smsText({ locale: 'en-US', ...DEFAULTS, appName: '{code}' })).toBe(
      'Your {code} code is 482017. It expires in 5 minutes. Do not share it.',
    );
  });
});
