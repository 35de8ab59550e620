/**
 * How many SMS segments a text takes, so the catalog's texts can be held to one (each segment is billed as
 * one SMS). GSM-7 (3GPP TS 23.038): 160 septets in one segment, 153 per segment once split (the rest holds the
 * concatenation header); extension-table characters take two septets and are never split across segments.
 * Any character outside GSM-7 makes the whole text UCS-2: 70 UTF-16 units, 67 once split, a surrogate pair
 * (emoji, rare CJK) counting two units and never split.
 */
export interface SegmentCount {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

/** GSM 03.38 default alphabet (the escape to the extension table, 0x1B, left out). */
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** Reached through the escape: two septets each. */
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

const SINGLE = { 'GSM-7': 160, 'UCS-2': 70 } as const;
const PER_PART = { 'GSM-7': 153, 'UCS-2': 67 } as const;

export function countSegments(text: string): SegmentCount {
  const characters = [...text];
  const gsm = characters.every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));
  const encoding = gsm ? 'GSM-7' : 'UCS-2';
  // Units each character takes: its septets, or its UTF-16 length (2 for a surrogate pair).
  const sizes = characters.map((c) => (gsm ? (GSM_EXTENSION.has(c) ? 2 : 1) : c.length));
  const units = sizes.reduce((sum, size) => sum + size, 0);
  if (units <= SINGLE[encoding]) return { encoding, units, segments: units === 0 ? 0 : 1 };
  // Split: fill each part up to its size without cutting a character's units in two.
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > PER_PART[encoding]) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return { encoding, units, segments };
}
