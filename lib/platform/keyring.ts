import { createSecretKey, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';

/**
 * The service's keys, from one secret shaped `{"current":"k2","k1":"<random>","k2":"<random>"}`.
 *
 * Each key id maps to at least 32 characters of random material; independent subkeys for code hashes,
 * sealed tokens, phone pseudonyms and number-range pseudonyms are derived from it with HKDF-SHA256. This
 * flat shape is what Secrets Manager can generate by itself (`generateStringKey`), so no key ever passes
 * through a template or a custom resource. Rotation: add a new id, point `current` at it, and drop the old
 * id once every code it protected has expired (code lifetime plus the retention period). `npm run rotate-keys`
 * does this, recording when each key was added in `"added": {"k2": "<ISO time>"}` and when it became current
 * as `"added": {"k2:current": "<ISO time>"}` (`added` is reserved, not a key; `:` is never in a key id, and
 * keeping both times in `added` lets functions of any version read a ring a newer command wrote).
 */
/**
 * Subkeys are KeyObjects, made once per ring: HMAC and AES-GCM given a Buffer import it again on every call
 * (about 50 µs each on Node 24, a KeyObject about 10 µs), and a KeyObject does not print its bytes.
 */
export interface KeySet {
  id: string;
  hmac: KeyObject;
  seal: KeyObject;
  phone: KeyObject;
  /** For the fraud guard's number-range pseudonyms (lib/abuse/abuse.ts). */
  range: KeyObject;
  /** Seals the apps' webhook signing secrets at rest (lib/events/webhook-secret.ts). */
  webhook: KeyObject;
  /** Keys the hash of an Idempotency-Key request's body, which holds the phone (lib/verification/idempotency.ts). */
  idempotency: KeyObject;
}

export interface KeyRing {
  current: KeySet;
  /** Current key first, then older ones. */
  all: KeySet[];
  get(id: string): KeySet | undefined;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
const MIN_MATERIAL_LENGTH = 32;

const derive = (material: string, id: string, purpose: string) =>
  createSecretKey(
    Buffer.from(hkdfSync('sha256', material, `voice-otp:${id}`, `voice-otp/v1/${purpose}`, 32)),
  );

/**
 * Errors name the key ring secret and what is wrong, never a fragment of the value (JSON.parse's own message
 * quotes its input): a key id is named only once it has the shape of one, so pasted key material never is.
 */
export function parseKeyRing(secretString: string): KeyRing {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error('Key ring secret is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('Key ring secret must be a JSON object');
  }
  const { current, added, ...materials } = parsed as Record<string, unknown>;
  if (added !== undefined && (typeof added !== 'object' || added === null || Array.isArray(added)))
    throw new Error('Key ring secret: "added" must map key ids to the times they were added');
  const keys = new Map<string, KeySet>();
  for (const [id, material] of Object.entries(materials)) {
    if (!KEY_ID.test(id)) throw new Error('Key ring secret: a key id is not 1-16 letters, digits, _ or -');
    if (typeof material !== 'string' || material.length < MIN_MATERIAL_LENGTH) {
      throw new Error(
        `Key ring secret: key "${id}" needs at least ${MIN_MATERIAL_LENGTH} characters of random material`,
      );
    }
    keys.set(id, {
      id,
      hmac: derive(material, id, 'code-hash'),
      seal: derive(material, id, 'seal'),
      phone: derive(material, id, 'phone'),
      range: derive(material, id, 'range'),
      webhook: derive(material, id, 'webhook-secret'),
      idempotency: derive(material, id, 'idempotency-body'),
    });
  }
  if (typeof current !== 'string' || !KEY_ID.test(current))
    throw new Error('Key ring secret: "current" must name a key id');
  const currentKey = keys.get(current);
  if (!currentKey) throw new Error(`Key ring secret: current key "${current}" is missing`);
  const all = [currentKey, ...[...keys.values()].filter((key) => key !== currentKey)];
  return { current: currentKey, all, get: (id) => keys.get(id) };
}

/** A fresh single-key ring's secret string, for local runs and tests. */
export const newKeyRingSecret = (id = 'k1') =>
  JSON.stringify({ current: id, [id]: randomBytes(32).toString('base64url') });
